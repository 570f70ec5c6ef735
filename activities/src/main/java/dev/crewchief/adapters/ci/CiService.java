package dev.crewchief.adapters.ci;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** One CI service's API as the activity asks it: a look at the commit's builds. */
interface CiService {
  CiLook look();

  /** The API's root, its headers (the token's among them) and how to GET a path under it. */
  record Api(
      CiHttp http, String root, Map<String, String> headers, String tokenRef, String secret) {
    JsonNode get(String pathAndQuery) {
      return http.get(URI.create(root + pathAndQuery), headers, tokenRef, secret);
    }

    static String encode(String s) {
      return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
  }
}

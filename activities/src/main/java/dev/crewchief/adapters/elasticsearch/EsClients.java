package dev.crewchief.adapters.elasticsearch;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.json.jackson.JacksonJsonpMapper;
import co.elastic.clients.transport.rest_client.RestClientTransport;
import dev.crewchief.activities.ElasticsearchActivities.Cluster;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.http.Header;
import org.apache.http.HttpHost;
import org.apache.http.message.BasicHeader;
import org.elasticsearch.client.RestClient;
import org.elasticsearch.client.RestClientBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One elasticsearch-java client per cluster URL and Authorization value, made on first use and kept
 * until {@link #close()} (each holds a connection pool and an I/O reactor thread). The key holds a
 * hash of the Authorization value, not the value: a rotated secret gets a client of its own, and
 * nothing printable keeps the secret.
 */
final class EsClients implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EsClients.class);
  private static final int CONNECT_TIMEOUT_MILLIS = 5_000;
  // Above the longest server-side wait this adapter asks for (cluster health, 10 s).
  private static final int SOCKET_TIMEOUT_MILLIS = 60_000;
  // Visible ASCII, as header values allow without folding; no CR or LF (header injection).
  private static final Pattern HEADER_VALUE =
      Pattern.compile("[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?");

  private final SecretResolver secrets;
  private final Map<String, Entry> clients = new ConcurrentHashMap<>();
  private volatile boolean closed;

  EsClients(SecretResolver secrets) {
    this.secrets = secrets;
  }

  /**
   * The URL of {@code cluster} checked: absolute http(s) with a host, no credentials, query or
   * fragment; a path is kept as the prefix of every request (a cluster behind a proxy path).
   */
  static URI validate(Cluster cluster, String step) {
    if (cluster == null) {
      throw invalid("no Elasticsearch cluster given for step " + step);
    }
    URI uri;
    try {
      uri = new URI(cluster.url() == null ? "" : cluster.url().strip());
    } catch (URISyntaxException e) {
      throw invalid("the url of cluster " + cluster.name() + " is not a URL: " + e.getReason());
    }
    if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())
        || uri.getHost() == null) {
      throw invalid(
          "the url of cluster "
              + cluster.name()
              + " must be an absolute http(s) URL with a host, such as http://es:9200");
    }
    if (uri.getRawUserInfo() != null) {
      // Not repeated: user info in a URL is a credential.
      throw invalid(
          "the url of cluster "
              + cluster.name()
              + " carries credentials: remove them and configure authRef instead");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw invalid("the url of cluster " + cluster.name() + " may not have a query or fragment");
    }
    if (cluster.authRef() != null && !SecretResolver.wellFormed(cluster.authRef())) {
      throw invalid(
          "the authRef of cluster "
              + cluster.name()
              + " is not of the form file:/path or env:NAME: configure a reference, never the"
              + " Authorization value itself");
    }
    return uri;
  }

  /** The client for {@code cluster}; resolves its Authorization secret (never for a dry run). */
  ElasticsearchClient client(Cluster cluster, String step) {
    URI uri = validate(cluster, step);
    String auth = cluster.authRef() == null ? null : authorization(cluster, step);
    String key = uri + "\n" + (auth == null ? "" : sha256(auth));
    Entry entry = clients.computeIfAbsent(key, k -> open(uri, auth));
    if (closed) {
      // Closed while this call was made: the entry may be one close() did not see.
      closeQuietly(clients.remove(key));
      throw ApplicationFailure.newFailure(
          "the worker is shutting down: no new request to " + cluster.describe(),
          EsFailures.UNREACHABLE);
    }
    return entry.client;
  }

  @Override
  public void close() {
    closed = true;
    for (String key : clients.keySet()) {
      closeQuietly(clients.remove(key));
    }
  }

  private Entry open(URI uri, String auth) {
    int port =
        uri.getPort() != -1 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    RestClientBuilder b =
        RestClient.builder(new HttpHost(uri.getHost(), port, uri.getScheme().toLowerCase()))
            .setRequestConfigCallback(
                rc ->
                    rc.setConnectTimeout(CONNECT_TIMEOUT_MILLIS)
                        .setSocketTimeout(SOCKET_TIMEOUT_MILLIS));
    String path = uri.getRawPath();
    if (path != null && !path.isEmpty() && !path.equals("/")) {
      b.setPathPrefix(path.endsWith("/") ? path.substring(0, path.length() - 1) : path);
    }
    if (auth != null) {
      b.setDefaultHeaders(new Header[] {new BasicHeader("Authorization", auth)});
    }
    RestClientTransport transport = new RestClientTransport(b.build(), new JacksonJsonpMapper());
    log.info("elasticsearch client for {} opened", uri);
    return new Entry(uri, transport, new ElasticsearchClient(transport));
  }

  private String authorization(Cluster cluster, String step) {
    String value =
        secrets
            .resolve(cluster.authRef(), "the Authorization header of " + cluster.describe())
            .replaceAll("[\r\n]+$", "");
    if (!HEADER_VALUE.matcher(value).matches()) {
      // Not repeated: it is the secret.
      throw ApplicationFailure.newNonRetryableFailure(
          "secret "
              + cluster.authRef()
              + " for the Authorization header of "
              + cluster.describe()
              + " (step "
              + step
              + ") is empty or not a single line of visible ASCII (such as 'ApiKey <key>')",
          "SecretUnresolved");
    }
    return value;
  }

  private static void closeQuietly(Entry e) {
    if (e == null) {
      return;
    }
    try {
      e.transport.close();
      log.info("elasticsearch client for {} closed", e.uri);
    } catch (IOException ex) {
      log.warn("closing the elasticsearch client for {}: {}", e.uri, ex.toString());
    }
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, EsFailures.INVALID_INPUT);
  }

  private record Entry(URI uri, RestClientTransport transport, ElasticsearchClient client) {}
}

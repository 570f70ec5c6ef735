package dev.crewchief.adapters.elasticsearch;

import co.elastic.clients.elasticsearch._types.mapping.TypeMapping;
import co.elastic.clients.json.JsonpMapper;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import jakarta.json.stream.JsonGenerator;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Whether two index mappings mean the same, for {@code createIndex}'s idempotence: the mappings
 * asked for against the ones Elasticsearch gives back for an existing index.
 *
 * <p>Both go through the client's model of a mapping ({@link TypeMapping}) and back to JSON, so
 * that what the server writes differently from how it was asked (a boolean as a string, {@code
 * "type": "object"} left out of an object field with properties) reads the same on both sides. Then
 * values are compared as text (numbers by value), objects regardless of key order, and parameters
 * set to their default ({@code "index": true}, {@code "doc_values": true}), which Elasticsearch
 * leaves out when it returns a mapping, are dropped on both sides.
 */
final class Mappings {
  private static final ObjectMapper JSON = new ObjectMapper();
  // Mapping parameters whose default the server does not echo back: name -> default as text.
  private static final Map<String, Set<String>> DEFAULTS =
      Map.ofEntries(
          Map.entry("index", Set.of("true")),
          Map.entry("doc_values", Set.of("true")),
          Map.entry("store", Set.of("false")),
          Map.entry("enabled", Set.of("true")),
          Map.entry("coerce", Set.of("true")),
          Map.entry("ignore_malformed", Set.of("false")),
          Map.entry("eager_global_ordinals", Set.of("false")),
          Map.entry("fielddata", Set.of("false")),
          Map.entry("boost", Set.of("1")),
          Map.entry("dynamic", Set.of("true")),
          Map.entry("term_vector", Set.of("no")),
          Map.entry("similarity", Set.of("BM25")),
          Map.entry("include_in_parent", Set.of("false")),
          Map.entry("include_in_root", Set.of("false")),
          Map.entry("index_phrases", Set.of("false")),
          Map.entry("split_queries_on_whitespace", Set.of("false")));

  private Mappings() {}

  /** Whether {@code wanted} (null: none) and {@code actual} (null: none) mean the same. */
  static boolean same(TypeMapping wanted, TypeMapping actual, JsonpMapper mapper) {
    return normalized(wanted, mapper).equals(normalized(actual, mapper));
  }

  /** The mapping as the JSON that is compared (for messages). */
  static String describe(TypeMapping m, JsonpMapper mapper) {
    return normalized(m, mapper).toString();
  }

  private static JsonNode normalized(TypeMapping m, JsonpMapper mapper) {
    if (m == null) {
      return JsonNodeFactory.instance.objectNode();
    }
    StringWriter out = new StringWriter();
    try (JsonGenerator g = mapper.jsonProvider().createGenerator(out)) {
      m.serialize(g, mapper);
    }
    try {
      return normalize(JSON.readTree(out.toString()));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the client wrote a mapping that is not JSON", e);
    }
  }

  private static JsonNode normalize(JsonNode n) {
    if (n.isObject()) {
      ObjectNode o = JsonNodeFactory.instance.objectNode();
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode v = normalize(e.getValue());
        if (v.isTextual() && DEFAULTS.getOrDefault(e.getKey(), Set.of()).contains(v.asText())) {
          continue;
        }
        o.set(e.getKey(), v);
      }
      if (o.has("properties") && o.path("type").asText().equals("object")) {
        o.remove("type");
      }
      return o;
    }
    if (n.isArray()) {
      ArrayNode a = JsonNodeFactory.instance.arrayNode();
      n.forEach(x -> a.add(normalize(x)));
      return a;
    }
    if (n.isNull()) {
      return n;
    }
    String text = n.asText();
    try {
      return TextNode.valueOf(new BigDecimal(text).stripTrailingZeros().toPlainString());
    } catch (NumberFormatException notANumber) {
      return TextNode.valueOf(text);
    }
  }
}

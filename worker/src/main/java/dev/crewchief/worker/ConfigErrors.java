package dev.crewchief.worker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Jackson's complaints about a config file in the words of the file: the key, what was found and
 * what is expected there ("expected a number, found "abc""), never a Java type name.
 */
final class ConfigErrors {
  private ConfigErrors() {}

  /** The key path of a mapping error below {@code base}. */
  static String key(String base, JsonMappingException e) {
    String path =
        e.getPath().stream()
            .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
            .collect(Collectors.joining("."))
            .replace(".[", "[");
    return path.isEmpty() ? base : base + "." + path;
  }

  /** What is wrong, for a person: found what, expected what. */
  static String problem(JsonProcessingException e, JsonNode tree) {
    if (e instanceof UnrecognizedPropertyException u) {
      Collection<Object> known = u.getKnownPropertyIds();
      return "unknown key '"
          + u.getPropertyName()
          + "'"
          + (known == null || known.isEmpty()
              ? ""
              : "; the keys here are: "
                  + String.join(", ", new TreeSet<>(known.stream().map(String::valueOf).toList())));
    }
    if (e instanceof InvalidFormatException f) {
      return "expected " + expected(f.getTargetType()) + ", found " + shown(f.getValue());
    }
    if (e instanceof MismatchedInputException m) {
      JsonNode found = at(tree, m);
      return "expected "
          + expected(m.getTargetType())
          + (found == null ? "" : ", found " + describe(found));
    }
    String msg = e.getOriginalMessage();
    return msg == null ? "cannot be read" : firstSentence(msg);
  }

  private static JsonNode at(JsonNode tree, JsonMappingException e) {
    JsonNode n = tree;
    for (JsonMappingException.Reference r : e.getPath()) {
      if (n == null) {
        return null;
      }
      n = r.getFieldName() != null ? n.get(r.getFieldName()) : n.get(r.getIndex());
    }
    return n;
  }

  /** A config value's kind and value, as YAML people would call it. */
  static String describe(JsonNode n) {
    if (n.isTextual()) {
      return "the text \"" + abbreviate(n.asText()) + "\"";
    }
    if (n.isArray()) {
      return "a list";
    }
    if (n.isObject()) {
      return "a mapping (key: value)";
    }
    if (n.isNull()) {
      return "nothing";
    }
    return n.isNumber() ? "the number " + n.asText() : n.isBoolean() ? n.asText() : n.toString();
  }

  private static String shown(Object value) {
    return value instanceof String s ? "\"" + abbreviate(s) + "\"" : String.valueOf(value);
  }

  /** What a value of a config record's field type looks like. */
  static String expected(Class<?> type) {
    if (type == null) {
      return "another kind of value";
    }
    if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
      return "a whole number";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (type == Duration.class) {
      return "an ISO-8601 duration such as PT4H or P2D";
    }
    if (type == String.class) {
      return "a text";
    }
    if (List.class.isAssignableFrom(type) || Collection.class.isAssignableFrom(type)) {
      return "a list";
    }
    if (Map.class.isAssignableFrom(type) || type.isRecord()) {
      return "a mapping (key: value)";
    }
    if (type.isEnum()) {
      return "one of "
          + String.join(
              ", ", java.util.Arrays.stream(type.getEnumConstants()).map(String::valueOf).toList());
    }
    return "a value of another kind";
  }

  private static String firstSentence(String s) {
    String t = s.strip();
    int nl = t.indexOf('\n');
    return nl < 0 ? t : t.substring(0, nl);
  }

  private static String abbreviate(String s) {
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }
}

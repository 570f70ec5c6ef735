package dev.crewchief.adapters.compose;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A docker-compose file edited the way a person edits it: only the value of a service's {@code
 * image:} line changes, and every comment, blank line, quote and indentation stays as it was.
 *
 * <p>The lines are found by reading the block structure (the top-level {@code services:} key, the
 * services at the first indentation below it, the keys at the first indentation below each
 * service); what that finds is then checked against a real YAML parse of the same text, before and
 * after the edit, so that a file the line reader cannot follow (anchors, flow mappings, {@code
 * extends}) is refused rather than edited in the wrong place. Problems are {@link Invalid} with a
 * message that says what to change.
 */
final class ComposeFile {
  private static final Pattern SERVICES = Pattern.compile("^services\\s*:\\s*(#.*)?$");
  private static final Pattern KEY =
      Pattern.compile("^(\\s*)(\"([^\"]+)\"|'([^']+)'|([^\\s\"'#:][^:#]*?))\\s*:(\\s+(.*?))?\\s*$");
  private static final Pattern IMAGE =
      Pattern.compile("^(\\s*image\\s*:\\s*)(\"([^\"]*)\"|'([^']*)'|([^\\s\"'#]+))(\\s*(#.*)?)$");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** Why a compose file cannot be edited; the message is for the person who must fix it. */
  static final class Invalid extends RuntimeException {
    Invalid(String message) {
      super(message);
    }
  }

  /**
   * A service's {@code image:} line: its index, and the line cut around the value (what comes
   * before it, its quote, the value, what follows it).
   */
  private record ImageLine(int index, String before, String quote, String value, String after) {}

  private final String name;
  private final List<String> lines;
  private final String eol;
  private final boolean finalEol;
  private final JsonNode doc;
  private final Map<String, ImageLine> found = new HashMap<>();

  private ComposeFile(String name, List<String> lines, String eol, boolean finalEol, JsonNode doc) {
    this.name = name;
    this.lines = lines;
    this.eol = eol;
    this.finalEol = finalEol;
    this.doc = doc;
  }

  /** Reads the text of the file called {@code name} (for messages); not YAML is said at once. */
  static ComposeFile parse(String name, String text) {
    String eol = text.contains("\r\n") ? "\r\n" : "\n";
    boolean finalEol = text.endsWith("\n");
    List<String> lines = new ArrayList<>(List.of(text.split("\r?\n", -1)));
    if (finalEol) {
      lines.remove(lines.size() - 1);
    }
    return new ComposeFile(name, lines, eol, finalEol, yaml(name, text));
  }

  /** The image each of these services names now, in the order asked. */
  Map<String, String> images(Iterable<String> services) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String service : services) {
      ImageLine line = imageLine(service);
      JsonNode parsed = doc.path("services").path(service).path("image");
      if (!parsed.isTextual() || !parsed.asText().equals(line.value())) {
        throw new Invalid(
            name
                + ": the image line found for service '"
                + service
                + "' ("
                + line.value()
                + ") is not what the file means as YAML ("
                + (parsed.isMissingNode() ? "no image" : parsed.toString())
                + "); write the service's image as a plain `image: repository:tag` line");
      }
      out.put(service, line.value());
    }
    return out;
  }

  /** The text with these services' images replaced, verified by parsing it back. */
  String with(Map<String, String> images) {
    List<String> edited = new ArrayList<>(lines);
    for (Map.Entry<String, String> e : images.entrySet()) {
      ImageLine line = imageLine(e.getKey());
      edited.set(
          line.index(), line.before() + line.quote() + e.getValue() + line.quote() + line.after());
    }
    String text = String.join(eol, edited) + (finalEol ? eol : "");
    JsonNode after = yaml(name, text);
    for (Map.Entry<String, String> e : images.entrySet()) {
      String now = after.path("services").path(e.getKey()).path("image").asText(null);
      if (!e.getValue().equals(now)) {
        throw new Invalid(
            name
                + ": after the edit service '"
                + e.getKey()
                + "' names "
                + now
                + ", not "
                + e.getValue());
      }
    }
    return text;
  }

  private static JsonNode yaml(String name, String text) {
    try {
      JsonNode doc = YAML.readTree(text);
      if (doc == null || !doc.path("services").isObject()) {
        throw new Invalid(name + " has no `services:` mapping: is it a docker-compose file?");
      }
      return doc;
    } catch (IOException e) {
      throw new Invalid(
          name + " is not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
    }
  }

  private ImageLine imageLine(String service) {
    return found.computeIfAbsent(service, this::findImageLine);
  }

  private ImageLine findImageLine(String service) {
    int services = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (SERVICES.matcher(lines.get(i)).matches()) {
        services = i;
        break;
      }
    }
    if (services < 0) {
      throw new Invalid(
          name + " has no top-level `services:` line of its own (a flow mapping cannot be edited)");
    }
    int end = blockEnd(services, 0);
    int serviceIndent = childIndent(services, end);
    int start = -1;
    for (int i = services + 1; i < end; i++) {
      Matcher k = KEY.matcher(lines.get(i));
      if (!content(lines.get(i)) || indent(lines.get(i)) != serviceIndent || !k.matches()) {
        continue;
      }
      if (service.equals(keyName(k))) {
        if (k.group(7) != null && !k.group(7).startsWith("#")) {
          throw new Invalid(
              name + ": service '" + service + "' is written on one line; give it a block mapping");
        }
        start = i;
        break;
      }
    }
    if (start < 0) {
      throw new Invalid(
          name
              + " has no service '"
              + service
              + "' under services: check the service names (atmosphere.services)");
    }
    int serviceEnd = blockEnd(start, serviceIndent);
    int keyIndent = childIndent(start, serviceEnd);
    for (int i = start + 1; i < serviceEnd; i++) {
      String l = lines.get(i);
      if (!content(l) || indent(l) != keyIndent) {
        continue;
      }
      Matcher m = IMAGE.matcher(l);
      if (m.matches()) {
        String value =
            m.group(3) != null ? m.group(3) : m.group(4) != null ? m.group(4) : m.group(5);
        if (value.contains("$")) {
          throw new Invalid(
              name
                  + ": the image of service '"
                  + service
                  + "' is set through a variable ("
                  + value
                  + "); set the variable (e.g. in .env) or write the image in the file");
        }
        String quote = m.group(3) != null ? "\"" : m.group(4) != null ? "'" : "";
        return new ImageLine(i, m.group(1), quote, value, m.group(6));
      }
      if (l.strip().startsWith("image:") || l.strip().startsWith("image :")) {
        throw new Invalid(
            name + ": the image line of service '" + service + "' cannot be read: " + l.strip());
      }
    }
    throw new Invalid(
        name
            + ": service '"
            + service
            + "' has no `image:` line of its own (built, or taken from an anchor or extends?);"
            + " give it an image: repository:tag line");
  }

  /** The first line after {@code from} that is content at or left of {@code indent}. */
  private int blockEnd(int from, int indent) {
    for (int i = from + 1; i < lines.size(); i++) {
      String l = lines.get(i);
      if (content(l) && indent(l) <= indent) {
        return i;
      }
    }
    return lines.size();
  }

  /** The indentation of the first content line of a block. */
  private int childIndent(int from, int end) {
    for (int i = from + 1; i < end; i++) {
      if (content(lines.get(i))) {
        return indent(lines.get(i));
      }
    }
    throw new Invalid(name + ": the block at line " + (from + 1) + " is empty");
  }

  private static String keyName(Matcher k) {
    return k.group(3) != null ? k.group(3) : k.group(4) != null ? k.group(4) : k.group(5).strip();
  }

  /** Not blank, not only a comment, not a document marker. */
  private static boolean content(String l) {
    String s = l.strip();
    return !s.isEmpty() && !s.startsWith("#") && !s.equals("---") && !s.equals("...");
  }

  private static int indent(String l) {
    int i = 0;
    while (i < l.length() && l.charAt(i) == ' ') {
      i++;
    }
    return i;
  }
}

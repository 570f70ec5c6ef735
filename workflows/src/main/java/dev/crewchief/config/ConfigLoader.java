package dev.crewchief.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Reads {@code crewchief.yaml} into {@link CrewChiefConfig}.
 *
 * <p>Environment variables override single keys: {@code
 * CREWCHIEF__environments__prod__hosts__web__port=2222} sets {@code
 * environments.prod.hosts.web.port}. The double underscore separates keys so that keys keep their
 * case and may contain single underscores and dashes.
 */
public final class ConfigLoader {
  /** Environment variable naming the config file when no flag does. */
  public static final String CONFIG_ENV = "CREWCHIEF_CONFIG";

  private static final String OVERRIDE_PREFIX = "CREWCHIEF__";

  private final Map<String, String> env;

  public ConfigLoader(Map<String, String> env) {
    this.env = env;
  }

  /**
   * The file named by the flag, else by {@code CREWCHIEF_CONFIG}, else {@code ./crewchief.yaml}.
   */
  public Path locate(Path flag) {
    if (flag != null) {
      return flag;
    }
    String fromEnv = env.get(CONFIG_ENV);
    return Path.of(fromEnv != null && !fromEnv.isBlank() ? fromEnv : "crewchief.yaml");
  }

  public LoadedConfig load(Path file) {
    String source = file.toString();
    if (!Files.isRegularFile(file)) {
      throw new ConfigException(
          source
              + ": no such file. Pass --config FILE or set "
              + CONFIG_ENV
              + " (see deploy/examples/ for a starting point)");
    }
    ObjectMapper mapper = mapper();
    JsonNode tree;
    try {
      tree = mapper.readTree(Files.readString(file));
    } catch (JsonProcessingException e) {
      throw new ConfigException(
          source + ": not valid YAML: " + e.getOriginalMessage() + location(e), e);
    } catch (IOException e) {
      throw new ConfigException(source + ": cannot be read: " + e.getMessage(), e);
    }
    if (tree == null || !tree.isObject()) {
      throw new ConfigException(source + ": expected a mapping with an 'environments' key");
    }
    applyOverrides((ObjectNode) tree, source);
    CrewChiefConfig config;
    try {
      config = mapper.treeToValue(tree, CrewChiefConfig.class);
    } catch (JsonMappingException e) {
      String path =
          e.getPath().stream()
              .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
              .collect(Collectors.joining("."));
      throw ConfigException.at(source, path.isEmpty() ? "(top)" : path, e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      throw new ConfigException(source + ": " + e.getOriginalMessage(), e);
    }
    if (config.environments() == null || config.environments().isEmpty()) {
      throw ConfigException.at(source, "environments", "expected at least one environment");
    }
    return new LoadedConfig(source, config);
  }

  private void applyOverrides(ObjectNode root, String source) {
    Map<String, String> sorted = new TreeMap<>(env);
    for (Map.Entry<String, String> e : sorted.entrySet()) {
      if (!e.getKey().startsWith(OVERRIDE_PREFIX)) {
        continue;
      }
      String[] keys = e.getKey().substring(OVERRIDE_PREFIX.length()).split("__");
      ObjectNode node = root;
      for (int i = 0; i < keys.length - 1; i++) {
        JsonNode child = node.get(keys[i]);
        if (child == null || child.isNull()) {
          child = node.putObject(keys[i]);
        } else if (!child.isObject()) {
          throw new ConfigException(
              e.getKey() + " overrides " + source + ": " + keys[i] + " is not a mapping");
        }
        node = (ObjectNode) child;
      }
      node.set(keys[keys.length - 1], TextNode.valueOf(e.getValue()));
    }
  }

  private static String location(JsonProcessingException e) {
    return e.getLocation() == null
        ? ""
        : " (line "
            + e.getLocation().getLineNr()
            + ", column "
            + e.getLocation().getColumnNr()
            + ")";
  }

  /** The mapper used for config files, also by tests. */
  public static ObjectMapper mapper() {
    return new ObjectMapper(new YAMLFactory())
        .registerModule(new JavaTimeModule())
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }
}

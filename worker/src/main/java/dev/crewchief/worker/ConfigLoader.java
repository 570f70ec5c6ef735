package dev.crewchief.worker;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.crewchief.config.ConfigException;
import dev.crewchief.config.CrewChiefConfig;
import dev.crewchief.config.EnvironmentConfig;
import dev.crewchief.config.GateConfig;
import dev.crewchief.config.HostConfig;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.config.NotifyConfig;
import dev.crewchief.config.PersonConfig;
import dev.crewchief.runbook.ConfigSection;
import dev.crewchief.runbook.Runbooks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads {@code crewchief.yaml} into {@link CrewChiefConfig}: the platform's keys of each
 * environment (approvers, hosts, gates, people, notify) and the runbooks' sections, each read into
 * its runbook's record (see {@link Runbooks#sections()}), so that a mistake anywhere in the file is
 * found when it is loaded, by the worker and the CLI alike.
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

  /** An environment's keys that every runbook shares. */
  record Platform(
      Map<String, List<String>> approvers,
      Map<String, HostConfig> hosts,
      Map<String, GateConfig> gates,
      Map<String, PersonConfig> people,
      @JsonProperty("notify") NotifyConfig notifications) {}

  private static final List<String> PLATFORM_KEYS =
      List.of("approvers", "hosts", "gates", "people", "notify");

  private final Map<String, String> env;
  private final Runbooks runbooks;
  private final Map<String, ConfigSection<?>> sections;

  public ConfigLoader(Map<String, String> env) {
    this(env, Runbooks.all());
  }

  ConfigLoader(Map<String, String> env, Runbooks runbooks) {
    this.env = env;
    this.runbooks = runbooks;
    this.sections = runbooks.sections();
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
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(Files.readAllBytes(file)))
              .toString();
    } catch (CharacterCodingException e) {
      throw new ConfigException(
          source + ": is not UTF-8 text: save it as UTF-8 (a YAML file must be)", e);
    } catch (IOException e) {
      throw new ConfigException(source + ": cannot be read: " + e.getMessage(), e);
    }
    try {
      tree = mapper.readTree(text);
    } catch (JsonProcessingException e) {
      String msg = e.getOriginalMessage();
      if (msg != null && msg.startsWith("Duplicate field")) {
        throw new ConfigException(
            source
                + ": the key "
                + msg.substring("Duplicate field ".length()).replace("'", "'")
                + " is there twice"
                + location(e)
                + ": keep one (YAML would silently take the last)",
            e);
      }
      throw new ConfigException(source + ": not valid YAML: " + msg + location(e), e);
    }
    if (tree == null || !tree.isObject()) {
      throw new ConfigException(source + ": expected a mapping with an 'environments' key");
    }
    applyOverrides((ObjectNode) tree, source);
    for (Iterator<String> it = tree.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!key.equals("taskQueue") && !key.equals("environments")) {
        throw ConfigException.at(source, key, "unknown key; expected taskQueue and environments");
      }
    }
    JsonNode envs = tree.get("environments");
    if (envs != null && !envs.isNull() && !envs.isObject()) {
      throw ConfigException.at(
          source,
          "environments",
          "expected a mapping (key: value) of environment names to their settings, found "
              + ConfigErrors.describe(envs));
    }
    if (envs == null || envs.isEmpty()) {
      throw ConfigException.at(source, "environments", "expected at least one environment");
    }
    Map<String, EnvironmentConfig> environments = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = envs.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      environments.put(e.getKey(), environment(mapper, source, e.getKey(), e.getValue()));
    }
    JsonNode queue = tree.get("taskQueue");
    LoadedConfig loaded =
        new LoadedConfig(
            source,
            new CrewChiefConfig(
                queue == null || queue.isNull() ? null : queue.asText(), environments));
    // What can never work is refused here, for the worker and the CLI alike: ports, gates
    // nobody can pass, keys nobody can check, and each runbook's own settings.
    ConfigValidation.check(loaded, runbooks);
    return loaded;
  }

  private EnvironmentConfig environment(
      ObjectMapper mapper, String source, String name, JsonNode node) {
    String base = "environments." + name;
    if (!node.isObject()) {
      throw ConfigException.at(source, base, "expected a mapping of approvers, hosts, gates, ...");
    }
    ObjectNode platform = mapper.createObjectNode();
    Map<String, Object> runbookSections = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (PLATFORM_KEYS.contains(f.getKey())) {
        platform.set(f.getKey(), f.getValue());
        continue;
      }
      ConfigSection<?> section = sections.get(f.getKey());
      if (section == null) {
        List<String> known = new ArrayList<>(PLATFORM_KEYS);
        known.addAll(sections.keySet());
        throw ConfigException.at(
            source, base + "." + f.getKey(), "unknown key; known: " + String.join(", ", known));
      }
      runbookSections.put(
          f.getKey(),
          convert(mapper, source, base + "." + f.getKey(), f.getValue(), section.type()));
    }
    Platform p = convert(mapper, source, base, platform, Platform.class);
    return new EnvironmentConfig(
        p.approvers(), p.hosts(), p.gates(), p.people(), p.notifications(), runbookSections);
  }

  private static <T> T convert(
      ObjectMapper mapper, String source, String base, JsonNode node, Class<T> type) {
    try {
      return mapper.treeToValue(node, type);
    } catch (JsonMappingException e) {
      throw ConfigException.at(source, ConfigErrors.key(base, e), ConfigErrors.problem(e, node));
    } catch (JsonProcessingException e) {
      throw ConfigException.at(source, base, ConfigErrors.problem(e, node));
    }
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
    YAMLFactory yaml = new YAMLFactory();
    yaml.enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    return new ObjectMapper(yaml)
        .registerModule(new JavaTimeModule())
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }
}

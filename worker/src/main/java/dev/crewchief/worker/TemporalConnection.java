package dev.crewchief.worker;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.crewchief.config.ConfigException;
import dev.crewchief.release.SearchAttributes;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.enums.v1.NamespaceState;
import io.temporal.api.operatorservice.v1.AddSearchAttributesRequest;
import io.temporal.api.operatorservice.v1.ListSearchAttributesRequest;
import io.temporal.api.operatorservice.v1.ListSearchAttributesResponse;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.common.SearchAttributeKey;
import io.temporal.envconfig.ClientConfig;
import io.temporal.envconfig.ClientConfigProfile;
import io.temporal.envconfig.ClientConfigTLS;
import io.temporal.envconfig.LoadClientConfigOptions;
import io.temporal.envconfig.LoadClientConfigProfileOptions;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.OperatorServiceStubsOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * How the worker and the CLI reach Temporal: Temporal's own environment configuration
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE and the
 * temporal.toml config file), read by the SDK's envconfig module.
 *
 * <p>Everything that can be checked without the network is checked when the settings are read
 * ({@link #fromEnvironment}): the address's form, the config file, the TLS files. {@link #open}
 * then resolves the host, reaches the server and asks it for the namespace. Each refusal is a
 * {@link ConfigException} that names the setting (the variable, or the key of the profile in its
 * file), what it holds and what is expected, so a mistake is a sentence and not gRPC's stack trace.
 */
public final class TemporalConnection {
  /** Where the embedded default listens when no address is configured. */
  public static final String EMBEDDED_TARGET = "127.0.0.1:7233";

  static final String EXPECTED_ADDRESS =
      "Expected the Temporal frontend's host and gRPC port, e.g. 127.0.0.1:7233,"
          + " temporal.example.org:7233 or [::1]:7233";

  private static final Pattern HOST_LABEL = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]*)?");

  /**
   * gRPC logs through java.util.logging, which the logback configuration does not reach: a name it
   * cannot resolve or a channel it loses would print a screen of warnings before the one line that
   * says what is wrong. The logger is held here because java.util.logging keeps loggers only
   * weakly, which would drop the level set on it.
   */
  private static final java.util.logging.Logger GRPC_JUL =
      java.util.logging.Logger.getLogger("io.grpc");

  private final ClientConfigProfile profile;
  private final Origin origin;
  private final Address address;

  private TemporalConnection(ClientConfigProfile profile, Origin origin, Address address) {
    this.profile = profile;
    this.origin = origin;
    this.address = address;
  }

  /** HOST and PORT of a configured address. */
  public record Address(String host, int port) {
    public String target() {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  /** Keeps gRPC's own warnings (java.util.logging) off the screen; errors still show. */
  public static void quietGrpcLogging() {
    GRPC_JUL.setLevel(java.util.logging.Level.SEVERE);
  }

  /**
   * Reads and checks the settings, without connecting: the config file a variable names must exist,
   * the profile must be in it, the address must be HOST:PORT, the TLS files must be there.
   */
  public static TemporalConnection fromEnvironment(Map<String, String> env) {
    Origin origin = Origin.of(env);
    String named = env.get("TEMPORAL_CONFIG_FILE");
    if (named != null && !named.isEmpty()) {
      Path p = Path.of(named);
      String problem =
          !Files.exists(p)
              ? "which does not exist"
              : Files.isDirectory(p)
                  ? "which is a directory"
                  : !Files.isReadable(p) ? "which cannot be read (permissions)" : null;
      if (problem != null) {
        throw new ConfigException(
            "TEMPORAL_CONFIG_FILE names "
                + named
                + ", "
                + problem
                + ": set it to your temporal.toml file, or unset it to use TEMPORAL_ADDRESS and"
                + " the other TEMPORAL_* variables alone");
      }
    }
    ClientConfigProfile profile;
    try {
      profile =
          ClientConfigProfile.load(
              LoadClientConfigProfileOptions.newBuilder().setEnvOverrides(env).build());
    } catch (JsonProcessingException e) {
      String where =
          e.getLocation() == null
              ? ""
              : " (line "
                  + e.getLocation().getLineNr()
                  + ", column "
                  + e.getLocation().getColumnNr()
                  + ")";
      throw new ConfigException(
          origin.file() + " is not a valid temporal.toml" + where + ": " + e.getOriginalMessage(),
          e);
    } catch (IOException e) {
      throw new ConfigException("cannot read " + origin.file() + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("Unable to find profile")) {
        throw new ConfigException(origin.missingProfile(), e);
      }
      throw new ConfigException(
          "Temporal client configuration (TEMPORAL_* variables or temporal.toml) is invalid: "
              + e.getMessage(),
          e);
    }
    String text = profile.getAddress();
    Address address =
        text == null || text.isBlank()
            ? null
            : parseAddress(text, origin.name("TEMPORAL_ADDRESS", "address"));
    TemporalConnection c = new TemporalConnection(profile, origin, address);
    c.checkTls();
    if (address == null
        && (set(profile.getApiKey())
            || (profile.getTls() != null && !Boolean.TRUE.equals(profile.getTls().isDisabled())))) {
      throw new ConfigException(
          "TLS or an API key is configured (TEMPORAL_TLS_*, TEMPORAL_API_KEY or the profile), but"
              + " no address: they are for a server of yours, so set TEMPORAL_ADDRESS to its"
              + " HOST:PORT (the embedded default on "
              + EMBEDDED_TARGET
              + " takes neither), or unset them");
    }
    return c;
  }

  /**
   * HOST:PORT, or a refusal that names the setting, what it holds and what is expected. Only the
   * form is checked here; whether the host resolves is {@link #open}'s business.
   */
  public static Address parseAddress(String text, String setting) {
    String problem = null;
    String host = null;
    String port = null;
    String t = text.strip();
    if (t.startsWith("[")) {
      int close = t.indexOf(']');
      if (close < 0) {
        problem = "the '[' of an IPv6 address is not closed";
      } else if (close + 1 >= t.length() || t.charAt(close + 1) != ':') {
        problem = "there is no ':PORT' after the IPv6 address";
      } else {
        host = t.substring(1, close);
        port = t.substring(close + 2);
      }
    } else {
      int colon = t.lastIndexOf(':');
      if (t.isEmpty()) {
        problem = "it is empty";
      } else if (colon < 0) {
        problem = "there is no ':PORT'";
      } else if (t.indexOf(':') != colon) {
        problem = "it has more than one ':' (an IPv6 address goes in brackets)";
      } else {
        host = t.substring(0, colon);
        port = t.substring(colon + 1);
      }
    }
    if (problem == null && host.isEmpty()) {
      problem = "there is no host before the ':'";
    }
    if (problem == null && port.isEmpty()) {
      problem = "there is no port after the ':'";
    }
    if (problem == null && !port.chars().allMatch(Character::isDigit)) {
      problem = "the port '" + port + "' is not a number";
    }
    int number = 0;
    if (problem == null) {
      number = port.length() > 5 ? Integer.MAX_VALUE : Integer.parseInt(port);
      if (number < 1 || number > 65535) {
        problem = "the port " + port + " is not between 1 and 65535";
      }
    }
    if (problem == null && !validHost(host, t.startsWith("["))) {
      problem = "'" + host + "' is not a host name or IP address";
    }
    if (problem != null) {
      throw new ConfigException(
          setting
              + " is '"
              + text
              + "', which is not HOST:PORT: "
              + problem
              + ". "
              + EXPECTED_ADDRESS);
    }
    return new Address(host, number);
  }

  private static boolean validHost(String host, boolean bracketed) {
    if (bracketed) {
      return host.matches("[0-9A-Fa-f:.]+(%[A-Za-z0-9]+)?") && host.contains(":");
    }
    if (host.length() > 253) {
      return false;
    }
    String h = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    for (String label : h.split("\\.", -1)) {
      if (label.length() > 63 || !HOST_LABEL.matcher(label).matches() || label.endsWith("-")) {
        return false;
      }
    }
    return true;
  }

  /** The TLS files the settings name are there, and a client certificate comes with its key. */
  private void checkTls() {
    ClientConfigTLS tls = profile.getTls();
    if (tls == null) {
      return;
    }
    checkFile(
        tls.getClientCertPath(),
        origin.name("TEMPORAL_TLS_CLIENT_CERT_PATH", "tls.client_cert_path"),
        "the client certificate (PEM)");
    checkFile(
        tls.getClientKeyPath(),
        origin.name("TEMPORAL_TLS_CLIENT_KEY_PATH", "tls.client_key_path"),
        "the client certificate's private key (PEM)");
    checkFile(
        tls.getServerCACertPath(),
        origin.name("TEMPORAL_TLS_SERVER_CA_CERT_PATH", "tls.server_ca_cert_path"),
        "the CA certificate (PEM) that signed the server's certificate");
    boolean cert = set(tls.getClientCertPath()) || present(tls.getClientCertData());
    boolean key = set(tls.getClientKeyPath()) || present(tls.getClientKeyData());
    if (cert != key) {
      String has =
          cert
              ? origin.name("TEMPORAL_TLS_CLIENT_CERT_PATH", "tls.client_cert_path")
              : origin.name("TEMPORAL_TLS_CLIENT_KEY_PATH", "tls.client_key_path");
      String lacks =
          cert
              ? origin.unset("TEMPORAL_TLS_CLIENT_KEY_PATH", "tls.client_key_path")
              : origin.unset("TEMPORAL_TLS_CLIENT_CERT_PATH", "tls.client_cert_path");
      throw new ConfigException(
          has
              + " is set but "
              + lacks
              + " is not: a client certificate (mTLS) needs both the certificate and its key");
    }
  }

  private static void checkFile(String path, String setting, String what) {
    if (!set(path)) {
      return;
    }
    Path p = Path.of(path);
    String problem =
        !Files.exists(p)
            ? "which does not exist"
            : Files.isDirectory(p)
                ? "which is a directory"
                : !Files.isReadable(p) ? "which cannot be read (permissions)" : null;
    if (problem != null) {
      throw new ConfigException(
          setting + " names " + path + ", " + problem + ": it must name " + what);
    }
  }

  private static boolean set(String s) {
    return s != null && !s.isEmpty();
  }

  private static boolean present(byte[] b) {
    return b != null && b.length > 0;
  }

  /** True when an address is configured; otherwise the embedded default applies. */
  public boolean addressConfigured() {
    return address != null;
  }

  public String target() {
    return addressConfigured() ? address.target() : EMBEDDED_TARGET;
  }

  /** The setting the address comes from, for messages. */
  public String addressSetting() {
    return addressConfigured()
        ? origin.name("TEMPORAL_ADDRESS", "address")
        : "no TEMPORAL_ADDRESS: the embedded default";
  }

  public String namespace() {
    return profile.getNamespace() == null || profile.getNamespace().isBlank()
        ? "default"
        : profile.getNamespace();
  }

  /** Where the namespace was chosen, for messages. */
  public String namespaceSetting() {
    if (profile.getNamespace() == null || profile.getNamespace().isBlank()) {
      return "the default: neither TEMPORAL_NAMESPACE nor a temporal.toml profile names one";
    }
    return origin.name("TEMPORAL_NAMESPACE", "namespace");
  }

  /**
   * The stubs for the server, not yet used: resolves the host first (an unknown host is a sentence,
   * not gRPC's retries and warnings) and builds the TLS context from the files.
   */
  public WorkflowServiceStubs connect() {
    return connect(b -> {});
  }

  /**
   * {@link #connect()}, with the stubs' options adjusted by the caller first (the CLI gives the
   * channel an event loop of its own).
   */
  public WorkflowServiceStubs connect(Consumer<WorkflowServiceStubsOptions.Builder> adjust) {
    if (addressConfigured()) {
      try {
        InetAddress.getAllByName(address.host());
      } catch (UnknownHostException e) {
        throw new ConfigException(
            addressSetting()
                + " is '"
                + profile.getAddress()
                + "', but no address is known for the host "
                + address.host()
                + ": check the name (and this machine's DNS), or set "
                + addressSetting()
                + " to HOST:PORT of your Temporal frontend");
      }
    }
    WorkflowServiceStubsOptions base;
    try {
      base = profile.toWorkflowServiceStubsOptions();
    } catch (RuntimeException e) {
      throw new ConfigException(
          "the TLS files cannot be used: " + rootMessage(e) + " (" + tlsFiles() + ")", e);
    }
    WorkflowServiceStubsOptions.Builder b =
        WorkflowServiceStubsOptions.newBuilder(base)
            .setTarget(target())
            .setRpcTimeout(Duration.ofSeconds(10));
    adjust.accept(b);
    return WorkflowServiceStubs.newServiceStubs(b.build());
  }

  /**
   * Connects and checks that the server answers and has the namespace: every command and the worker
   * start with this, so a wrong namespace is named instead of looking like "no release".
   */
  public WorkflowServiceStubs open() {
    return open(b -> {});
  }

  /** {@link #open()} on stubs whose options the caller adjusts, as {@link #connect(Consumer)}. */
  public WorkflowServiceStubs open(Consumer<WorkflowServiceStubsOptions.Builder> adjust) {
    WorkflowServiceStubs stubs = connect(adjust);
    try {
      try {
        stubs.blockingStub().getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
      } catch (StatusRuntimeException e) {
        throw new ConfigException(unreachable(e));
      }
      checkNamespace(stubs);
      return stubs;
    } catch (RuntimeException e) {
      stubs.shutdownNow();
      throw e;
    }
  }

  /** Why the server did not answer, in words, with what to check. */
  public String unreachable(StatusRuntimeException e) {
    String where = "Temporal at " + target() + " (" + addressSetting() + ")";
    return switch (e.getStatus().getCode()) {
      case UNAUTHENTICATED, PERMISSION_DENIED ->
          where
              + " refused this client: "
              + describe(e)
              + "; check TEMPORAL_API_KEY or the TLS client certificate";
      case DEADLINE_EXCEEDED ->
          "cannot reach "
              + where
              + ": no answer within 10 s; is it the address of the Temporal frontend's gRPC port?";
      default ->
          "cannot reach "
              + where
              + ": "
              + describe(e)
              + "; is the server running? Otherwise set TEMPORAL_ADDRESS to HOST:PORT of your"
              + " Temporal frontend";
    };
  }

  /** The namespace exists on the server (where the server lets this client ask). */
  void checkNamespace(WorkflowServiceStubs stubs) {
    String ns = namespace();
    boolean missing;
    try {
      var d =
          stubs
              .blockingStub()
              .describeNamespace(DescribeNamespaceRequest.newBuilder().setNamespace(ns).build());
      missing = d.getNamespaceInfo().getState() == NamespaceState.NAMESPACE_STATE_DELETED;
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      if (code == Status.Code.PERMISSION_DENIED || code == Status.Code.UNIMPLEMENTED) {
        return; // a server that does not tell this client (Cloud API keys of some roles)
      }
      if (code != Status.Code.NOT_FOUND) {
        throw new ConfigException(unreachable(e));
      }
      missing = true;
    }
    if (missing) {
      throw new ConfigException(
          "namespace '"
              + ns
              + "' does not exist on Temporal at "
              + target()
              + " (chosen by "
              + namespaceSetting()
              + "): create it with `temporal operator namespace create --namespace "
              + ns
              + " --address "
              + target()
              + "`, or set "
              + (namespaceSetting().startsWith("the default")
                  ? "TEMPORAL_NAMESPACE"
                  : namespaceSetting())
              + " to a namespace that exists (`temporal operator namespace list`)");
    }
  }

  private String tlsFiles() {
    ClientConfigTLS tls = profile.getTls();
    List<String> parts = new ArrayList<>();
    if (tls != null) {
      if (set(tls.getClientCertPath())) {
        parts.add(
            origin.name("TEMPORAL_TLS_CLIENT_CERT_PATH", "tls.client_cert_path")
                + " = "
                + tls.getClientCertPath());
      }
      if (set(tls.getClientKeyPath())) {
        parts.add(
            origin.name("TEMPORAL_TLS_CLIENT_KEY_PATH", "tls.client_key_path")
                + " = "
                + tls.getClientKeyPath());
      }
      if (set(tls.getServerCACertPath())) {
        parts.add(
            origin.name("TEMPORAL_TLS_SERVER_CA_CERT_PATH", "tls.server_ca_cert_path")
                + " = "
                + tls.getServerCACertPath());
      }
    }
    return parts.isEmpty() ? "certificates given as data" : String.join(", ", parts);
  }

  /** A gRPC status in words: its description, and the cause's when it adds something. */
  public static String describe(StatusRuntimeException e) {
    String d = e.getStatus().getDescription();
    Throwable c = e.getCause();
    String cause = c == null ? null : rootMessage(c);
    if (d == null || d.isBlank()) {
      return withoutPipeline(cause == null ? e.getStatus().getCode().name() : cause);
    }
    return withoutPipeline(cause == null || d.contains(cause) ? d : d + ": " + cause);
  }

  /**
   * gRPC's Netty transport names its channel pipeline in some messages ("... protocol negotiation
   * for [NettyClientHandler#0, WriteBufferingAndExceptionHandler#0, ...]"): of no use to a person.
   */
  static String withoutPipeline(String message) {
    return message.replaceAll(" for \\[[^\\]]*Handler#[^\\]]*\\]", "");
  }

  private static String rootMessage(Throwable t) {
    Throwable r = t;
    while (r.getCause() != null && r.getCause() != r) {
      r = r.getCause();
    }
    String m = r.getMessage();
    if (r instanceof java.nio.file.NoSuchFileException) {
      return "no such file " + m;
    }
    return m == null || m.isBlank() ? r.getClass().getSimpleName() : m;
  }

  public WorkflowClient client(WorkflowServiceStubs stubs) {
    WorkflowClientOptions options =
        WorkflowClientOptions.newBuilder(profile.toWorkflowClientOptions())
            .setNamespace(namespace())
            .setIdentity("crewchief@" + hostName())
            .build();
    return WorkflowClient.newInstance(stubs, options);
  }

  /**
   * The Crew Chief search attributes registered on the server, or none where the server cannot tell
   * (the embedded test server, a Cloud namespace without operator rights).
   */
  public static List<String> registeredSearchAttributes(
      WorkflowServiceStubs stubs, String namespace) {
    List<String> names = new ArrayList<>();
    try {
      OperatorServiceStubs op =
          OperatorServiceStubs.newServiceStubs(
              OperatorServiceStubsOptions.newBuilder()
                  .setChannel(stubs.getRawChannel())
                  .validateAndBuildWithDefaults());
      ListSearchAttributesResponse r =
          op.blockingStub()
              .listSearchAttributes(
                  ListSearchAttributesRequest.newBuilder().setNamespace(namespace).build());
      for (SearchAttributeKey<String> key : SearchAttributes.ALL) {
        if (r.getCustomAttributesMap().containsKey(key.getName())) {
          names.add(key.getName());
        }
      }
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED
          && e.getStatus().getCode() != Status.Code.PERMISSION_DENIED) {
        throw e;
      }
    }
    return names;
  }

  /** Registers the Crew Chief search attributes (Keyword) where missing. */
  public static void registerSearchAttributes(WorkflowServiceStubs stubs, String namespace) {
    List<String> present = registeredSearchAttributes(stubs, namespace);
    AddSearchAttributesRequest.Builder req =
        AddSearchAttributesRequest.newBuilder().setNamespace(namespace);
    for (SearchAttributeKey<String> key : SearchAttributes.ALL) {
      if (!present.contains(key.getName())) {
        req.putSearchAttributes(key.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
      }
    }
    if (req.getSearchAttributesCount() == 0) {
      return;
    }
    OperatorServiceStubs op =
        OperatorServiceStubs.newServiceStubs(
            OperatorServiceStubsOptions.newBuilder()
                .setChannel(stubs.getRawChannel())
                .validateAndBuildWithDefaults());
    op.blockingStub().addSearchAttributes(req.build());
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /**
   * Where the settings come from: a variable when it is set, otherwise the key of the profile in
   * the config file (as the SDK reads them: variables over the profile).
   */
  record Origin(Map<String, String> env, String file, String profile) {
    static Origin of(Map<String, String> env) {
      String named = env.get("TEMPORAL_CONFIG_FILE");
      String file = named != null && !named.isEmpty() ? named : defaultConfigFile(env);
      String p = env.get("TEMPORAL_PROFILE");
      return new Origin(env, file, p == null || p.isEmpty() ? "default" : p);
    }

    /** The variable when set, else the key of the profile in the file. */
    String name(String variable, String key) {
      String v = env.get(variable);
      if (v != null && !v.isEmpty()) {
        return variable;
      }
      return key + " of profile '" + profile + "' in " + (file == null ? "temporal.toml" : file);
    }

    /** A setting that is set nowhere: the variable, and the key where a file is read. */
    String unset(String variable, String key) {
      return file != null && Files.isRegularFile(Path.of(file))
          ? variable + " (nor " + key + " of profile '" + profile + "' in " + file + ")"
          : variable;
    }

    String missingProfile() {
      TreeSet<String> known = new TreeSet<>();
      boolean exists = file != null && Files.isRegularFile(Path.of(file));
      if (exists) {
        try {
          known.addAll(
              ClientConfig.load(
                      LoadClientConfigOptions.newBuilder().setConfigFilePath(file).build())
                  .getProfiles()
                  .keySet());
        } catch (IOException | RuntimeException e) {
          // The message below still names the file and the profile.
        }
      }
      return "TEMPORAL_PROFILE is '"
          + profile
          + "', but "
          + (exists
              ? file
                  + " has no [profile."
                  + profile
                  + "]"
                  + (known.isEmpty()
                      ? " (it has no profiles)"
                      : " (its profiles: " + String.join(", ", known) + ")")
              : "there is no temporal.toml at "
                  + (file == null ? "the default place" : file)
                  + " (TEMPORAL_CONFIG_FILE names another)")
          + ": set TEMPORAL_PROFILE to one of its profiles, or unset it";
    }

    /** Where the SDK looks when TEMPORAL_CONFIG_FILE is not set. */
    static String defaultConfigFile(Map<String, String> env) {
      String home = System.getProperty("user.home");
      if (home == null || home.isEmpty()) {
        return null;
      }
      String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
      if (os.contains("mac")) {
        return Path.of(home, "Library", "Application Support", "temporalio", "temporal.toml")
            .toString();
      }
      if (os.contains("win")) {
        String appData = env.get("APPDATA");
        return appData == null || appData.isEmpty()
            ? null
            : Path.of(appData, "temporalio", "temporal.toml").toString();
      }
      return Path.of(home, ".config", "temporalio", "temporal.toml").toString();
    }
  }
}

package dev.crewchief.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.config.ConfigException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Temporal settings as the worker and the CLI read them: every mistake that can be seen without
 * the network is refused when they are read, in a sentence that names the setting, what it holds
 * and what is expected; an unknown host is refused before gRPC tries it.
 */
class TemporalConnectionTest {
  static final String EXPECTED =
      "Expected the Temporal frontend's host and gRPC port, e.g. 127.0.0.1:7233,"
          + " temporal.example.org:7233 or [::1]:7233";

  @TempDir Path dir;

  /** The variables, with a config file of no profiles so a user's own temporal.toml is not read. */
  Map<String, String> env(String... pairs) throws Exception {
    Path none = dir.resolve("none.toml");
    if (!Files.exists(none)) {
      Files.writeString(none, "[profile.other]\n");
    }
    Map<String, String> env = new HashMap<>();
    env.put("TEMPORAL_CONFIG_FILE", none.toString());
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    return env;
  }

  String refusal(Map<String, String> env) {
    return assertThrows(ConfigException.class, () -> TemporalConnection.fromEnvironment(env))
        .getMessage();
  }

  @Test
  void anAddressIsHostAndPort() throws Exception {
    for (String ok :
        new String[] {
          "127.0.0.1:7233",
          "temporal.example.org:7233",
          "my_host:1",
          "localhost:65535",
          "[::1]:7233"
        }) {
      TemporalConnection c = TemporalConnection.fromEnvironment(env("TEMPORAL_ADDRESS", ok));
      assertTrue(c.addressConfigured(), ok);
      assertEquals(ok, c.target());
    }
    assertEquals(
        new TemporalConnection.Address("::1", 7233),
        TemporalConnection.parseAddress("[::1]:7233", "TEMPORAL_ADDRESS"));
  }

  @Test
  void noAddressMeansTheEmbeddedDefault() throws Exception {
    TemporalConnection c = TemporalConnection.fromEnvironment(env());
    assertFalse(c.addressConfigured());
    assertEquals("127.0.0.1:7233", c.target());
    assertEquals("default", c.namespace());
  }

  @Test
  void anAddressWithSeveralColonsIsRefused() throws Exception {
    assertEquals(
        "TEMPORAL_ADDRESS is 'nohost:port:x', which is not HOST:PORT: it has more than one ':'"
            + " (an IPv6 address goes in brackets). "
            + EXPECTED,
        refusal(env("TEMPORAL_ADDRESS", "nohost:port:x")));
    assertEquals(
        "TEMPORAL_ADDRESS is ':::', which is not HOST:PORT: it has more than one ':'"
            + " (an IPv6 address goes in brackets). "
            + EXPECTED,
        refusal(env("TEMPORAL_ADDRESS", ":::")));
  }

  @Test
  void aPortOutOfRangeIsRefused() throws Exception {
    assertEquals(
        "TEMPORAL_ADDRESS is 'host:99999', which is not HOST:PORT: the port 99999 is not between"
            + " 1 and 65535. "
            + EXPECTED,
        refusal(env("TEMPORAL_ADDRESS", "host:99999")));
    assertEquals(
        "TEMPORAL_ADDRESS is 'host:0', which is not HOST:PORT: the port 0 is not between 1 and"
            + " 65535. "
            + EXPECTED,
        refusal(env("TEMPORAL_ADDRESS", "host:0")));
  }

  @Test
  void otherMalformedAddressesSayWhatIsWrong() throws Exception {
    Map<String, String> cases =
        Map.of(
            "localhost", "there is no ':PORT'",
            "host:", "there is no port after the ':'",
            ":7233", "there is no host before the ':'",
            "host:http", "the port 'http' is not a number",
            "[::1", "the '[' of an IPv6 address is not closed",
            "[::1]7233", "there is no ':PORT' after the IPv6 address",
            "bad host:7233", "'bad host' is not a host name or IP address",
            "-x.org:7233", "'-x.org' is not a host name or IP address");
    for (var c : cases.entrySet()) {
      assertEquals(
          "TEMPORAL_ADDRESS is '"
              + c.getKey()
              + "', which is not HOST:PORT: "
              + c.getValue()
              + ". "
              + EXPECTED,
          refusal(env("TEMPORAL_ADDRESS", c.getKey())));
    }
  }

  @Test
  void anAddressFromTheProfileNamesItsKeyAndFile() throws Exception {
    Path toml = dir.resolve("temporal.toml");
    Files.writeString(toml, "[profile.default]\naddress = \"x:1:2\"\n");
    assertEquals(
        "address of profile 'default' in "
            + toml
            + " is 'x:1:2', which is not HOST:PORT: it has more than one ':' (an IPv6 address"
            + " goes in brackets). "
            + EXPECTED,
        refusal(Map.of("TEMPORAL_CONFIG_FILE", toml.toString())));
  }

  @Test
  void anUnknownHostIsRefusedBeforeGrpcTriesIt() throws Exception {
    // Reading the settings does not look the host up: that is part of connecting.
    TemporalConnection c =
        TemporalConnection.fromEnvironment(env("TEMPORAL_ADDRESS", "no-such-host.invalid:7233"));
    ConfigException e = assertThrows(ConfigException.class, c::connect);
    assertEquals(
        "TEMPORAL_ADDRESS is 'no-such-host.invalid:7233', but no address is known for the host"
            + " no-such-host.invalid: check the name (and this machine's DNS), or set"
            + " TEMPORAL_ADDRESS to HOST:PORT of your Temporal frontend",
        e.getMessage());
  }

  @Test
  void aServerThatIsNotThereIsNamedWithItsSetting() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    TemporalConnection c =
        TemporalConnection.fromEnvironment(env("TEMPORAL_ADDRESS", "127.0.0.1:" + port));
    ConfigException e = assertThrows(ConfigException.class, c::open);
    assertTrue(
        e.getMessage()
            .startsWith("cannot reach Temporal at 127.0.0.1:" + port + " (TEMPORAL_ADDRESS): "),
        e.getMessage());
    assertTrue(
        e.getMessage()
            .endsWith(
                "; is the server running? Otherwise set TEMPORAL_ADDRESS to HOST:PORT of your"
                    + " Temporal frontend"),
        e.getMessage());
  }

  @Test
  void missingTlsFilesAreNamedWithTheirVariable() throws Exception {
    Path key = Files.writeString(dir.resolve("key.pem"), "not checked here");
    Path cert = Files.writeString(dir.resolve("cert.pem"), "not checked here");
    assertEquals(
        "TEMPORAL_TLS_CLIENT_CERT_PATH names /nonexistent/cert.pem, which does not exist: it must"
            + " name the client certificate (PEM)",
        refusal(
            env(
                "TEMPORAL_ADDRESS", "temporal.example.org:7233",
                "TEMPORAL_TLS_CLIENT_CERT_PATH", "/nonexistent/cert.pem",
                "TEMPORAL_TLS_CLIENT_KEY_PATH", key.toString())));
    assertEquals(
        "TEMPORAL_TLS_CLIENT_KEY_PATH names /nonexistent/key.pem, which does not exist: it must"
            + " name the client certificate's private key (PEM)",
        refusal(
            env(
                "TEMPORAL_ADDRESS", "temporal.example.org:7233",
                "TEMPORAL_TLS_CLIENT_CERT_PATH", cert.toString(),
                "TEMPORAL_TLS_CLIENT_KEY_PATH", "/nonexistent/key.pem")));
    assertEquals(
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH names /nonexistent/ca.pem, which does not exist: it must"
            + " name the CA certificate (PEM) that signed the server's certificate",
        refusal(
            env(
                "TEMPORAL_ADDRESS", "temporal.example.org:7233",
                "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "/nonexistent/ca.pem")));
    assertEquals(
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH names "
            + dir
            + ", which is a directory: it must name the CA certificate (PEM) that signed the"
            + " server's certificate",
        refusal(
            env(
                "TEMPORAL_ADDRESS",
                "temporal.example.org:7233",
                "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
                dir.toString())));
  }

  @Test
  void aClientCertificateNeedsItsKey() throws Exception {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "not checked here");
    assertEquals(
        "TEMPORAL_TLS_CLIENT_CERT_PATH is set but TEMPORAL_TLS_CLIENT_KEY_PATH (nor"
            + " tls.client_key_path of profile 'default' in "
            + dir.resolve("none.toml")
            + ") is not: a client certificate (mTLS) needs both the certificate and its key",
        refusal(
            env(
                "TEMPORAL_ADDRESS",
                "temporal.example.org:7233",
                "TEMPORAL_TLS_CLIENT_CERT_PATH",
                cert.toString())));
  }

  @Test
  void aTlsFileFromTheProfileNamesItsKeyAndFile() throws Exception {
    Path toml = dir.resolve("temporal.toml");
    Files.writeString(
        toml,
        "[profile.prod]\naddress = \"temporal.example.org:7233\"\n"
            + "[profile.prod.tls]\nserver_ca_cert_path = \"/nonexistent/ca.pem\"\n");
    assertEquals(
        "tls.server_ca_cert_path of profile 'prod' in "
            + toml
            + " names /nonexistent/ca.pem, which does not exist: it must name the CA certificate"
            + " (PEM) that signed the server's certificate",
        refusal(Map.of("TEMPORAL_CONFIG_FILE", toml.toString(), "TEMPORAL_PROFILE", "prod")));
  }

  @Test
  void tlsFilesThatAreNotCertificatesAreRefusedWhenConnecting() throws Exception {
    Path ca = Files.writeString(dir.resolve("ca.pem"), "no certificate here\n");
    TemporalConnection c =
        TemporalConnection.fromEnvironment(
            env(
                "TEMPORAL_ADDRESS",
                "127.0.0.1:7233",
                "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
                ca.toString()));
    ConfigException e = assertThrows(ConfigException.class, c::connect);
    assertEquals(
        "the TLS files cannot be used: found no certificates in input stream"
            + " (TEMPORAL_TLS_SERVER_CA_CERT_PATH = "
            + ca
            + ")",
        e.getMessage());
  }

  @Test
  void tlsWithoutAnAddressIsRefused() throws Exception {
    Path ca = Files.writeString(dir.resolve("ca.pem"), "not checked here");
    assertEquals(
        "TLS or an API key is configured (TEMPORAL_TLS_*, TEMPORAL_API_KEY or the profile), but no"
            + " address: they are for a server of yours, so set TEMPORAL_ADDRESS to its HOST:PORT"
            + " (the embedded default on 127.0.0.1:7233 takes neither), or unset them",
        refusal(env("TEMPORAL_TLS_SERVER_CA_CERT_PATH", ca.toString())));
  }

  @Test
  void aConfigFileThatIsNotThereIsRefused() throws Exception {
    assertEquals(
        "TEMPORAL_CONFIG_FILE names /nonexistent/temporal.toml, which does not exist: set it to"
            + " your temporal.toml file, or unset it to use TEMPORAL_ADDRESS and the other"
            + " TEMPORAL_* variables alone",
        refusal(Map.of("TEMPORAL_CONFIG_FILE", "/nonexistent/temporal.toml")));
    assertEquals(
        "TEMPORAL_CONFIG_FILE names "
            + dir
            + ", which is a directory: set it to your temporal.toml file, or unset it to use"
            + " TEMPORAL_ADDRESS and the other TEMPORAL_* variables alone",
        refusal(Map.of("TEMPORAL_CONFIG_FILE", dir.toString())));
  }

  @Test
  void anUnknownProfileListsTheKnownOnes() throws Exception {
    Path toml = dir.resolve("temporal.toml");
    Files.writeString(
        toml,
        "[profile.default]\naddress = \"127.0.0.1:7233\"\n[profile.prod]\nnamespace = \"p\"\n");
    assertEquals(
        "TEMPORAL_PROFILE is 'staging', but "
            + toml
            + " has no [profile.staging] (its profiles: default, prod): set TEMPORAL_PROFILE to one"
            + " of its profiles, or unset it",
        refusal(Map.of("TEMPORAL_CONFIG_FILE", toml.toString(), "TEMPORAL_PROFILE", "staging")));
  }

  @Test
  void aConfigFileThatIsNotTomlNamesTheLine() throws Exception {
    Path toml = dir.resolve("temporal.toml");
    Files.writeString(toml, "[profile.default\n");
    assertEquals(
        toml + " is not a valid temporal.toml (line 1, column 17): Newline not permitted here",
        refusal(Map.of("TEMPORAL_CONFIG_FILE", toml.toString())));
  }

  @Test
  void theNamespaceSaysWhereItWasChosen() throws Exception {
    assertEquals(
        "TEMPORAL_NAMESPACE",
        TemporalConnection.fromEnvironment(env("TEMPORAL_NAMESPACE", "nope")).namespaceSetting());
    assertEquals(
        "the default: neither TEMPORAL_NAMESPACE nor a temporal.toml profile names one",
        TemporalConnection.fromEnvironment(env()).namespaceSetting());
    Path toml = dir.resolve("temporal.toml");
    Files.writeString(toml, "[profile.default]\nnamespace = \"p\"\n");
    TemporalConnection c =
        TemporalConnection.fromEnvironment(Map.of("TEMPORAL_CONFIG_FILE", toml.toString()));
    assertEquals("p", c.namespace());
    assertEquals("namespace of profile 'default' in " + toml, c.namespaceSetting());
  }

  @Test
  void aLostConnectionIsDescribedWithoutNettysPipeline() {
    assertEquals(
        "Connection closing while performing protocol negotiation",
        TemporalConnection.withoutPipeline(
            "Connection closing while performing protocol negotiation for [NettyClientHandler#0,"
                + " WriteBufferingAndExceptionHandler#0, DefaultChannelPipeline$TailContext#0]"));
    assertEquals(
        "UNAVAILABLE: io exception: connect to [::1]:7233 refused",
        TemporalConnection.withoutPipeline(
            "UNAVAILABLE: io exception: connect to [::1]:7233 refused"));
  }
}

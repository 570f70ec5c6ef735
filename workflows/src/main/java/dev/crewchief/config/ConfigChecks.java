package dev.crewchief.config;

import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.MailServerRef;
import dev.crewchief.activities.NotifyChannels;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The checks every runbook's plan makes of its settings, each failing with a {@link
 * ConfigException} that names the file, the key and what is expected. A value that should have been
 * a secret reference is never echoed: it may be the secret itself.
 */
public final class ConfigChecks {
  private static final Pattern REFERENCE = Pattern.compile("file:/.+|env:[A-Za-z_][A-Za-z0-9_]*");

  private final LoadedConfig config;

  public ConfigChecks(LoadedConfig config) {
    this.config = config;
  }

  public LoadedConfig config() {
    return config;
  }

  public String source() {
    return config.source();
  }

  public ConfigException error(String key, String problem) {
    return ConfigException.at(config.source(), key, problem);
  }

  public void require(String key, String value) {
    if (value == null || value.isBlank()) {
      throw error(key, "missing");
    }
  }

  public void require(String key, Object value, String what) {
    if (value == null) {
      throw error(key, "missing: " + what);
    }
  }

  public void absolute(String key, String value) {
    require(key, value);
    if (!value.startsWith("/")) {
      throw error(key, "expected an absolute path, got '" + value + "'");
    }
  }

  /** Whether a value has the form of a secret reference: {@code file:/path} or {@code env:NAME}. */
  public static boolean isReference(String value) {
    return value != null && REFERENCE.matcher(value).matches();
  }

  /** A secret reference, required or optional; the value itself is never shown. */
  public void reference(String key, String ref, boolean required) {
    if (ref == null && !required) {
      return;
    }
    if (!isReference(ref)) {
      throw error(
          key,
          ref == null
              ? "missing: a secret reference file:/path or env:VARIABLE"
              : "expected a secret reference file:/path or env:VARIABLE, never the secret"
                  + " itself (the value is not shown: it may be one)");
    }
  }

  /** The named SSH host of an environment, its key as a reference. */
  public HostRef host(String env, String name) {
    EnvironmentConfig e = config.environment(env);
    String key = "environments." + env + ".hosts." + name;
    HostConfig h = e.hosts() == null ? null : e.hosts().get(name);
    if (h == null) {
      throw error(
          key,
          "no such host is configured"
              + (e.hosts() == null || e.hosts().isEmpty()
                  ? ""
                  : " (configured: " + String.join(", ", e.hosts().keySet()) + ")"));
    }
    require(key + ".address", h.address());
    require(key + ".user", h.user());
    absolute(key + ".knownHosts", h.knownHosts());
    reference(key + ".privateKey", h.privateKey(), true);
    int port = h.port() == null ? 22 : h.port();
    if (port < 1 || port > 65535) {
      throw error(key + ".port", "expected a port number 1-65535, found " + port);
    }
    return new HostRef(name, h.address(), port, h.user(), h.privateKey(), h.knownHosts());
  }

  /**
   * Checks that a person named on the command line holds the role a gate of theirs needs: a
   * release's crew chief must be one of the environment's crew chiefs, its driver one of its
   * drivers, or nobody allowed could pass the gate that waits for them.
   */
  public void role(String env, String person, String role, String option) {
    EnvironmentConfig e = config.environment(env);
    List<String> holders = e.approvers().get(role);
    if (holders == null || !holders.contains(person)) {
      throw new IllegalArgumentException(
          option
              + " "
              + person
              + " does not hold the role "
              + role
              + " in "
              + env
              + " ("
              + role
              + ": "
              + (holders == null ? "nobody" : String.join(", ", holders))
              + "; see environments."
              + env
              + ".approvers in "
              + config.source()
              + ")");
    }
  }

  /** An SMTP server's settings as activities receive them. */
  public MailServerRef smtp(String key, String name, SmtpConfig smtp) {
    require(key, smtp, "host, port, security, username, password");
    require(key + ".host", smtp.host());
    reference(key + ".username", smtp.username(), false);
    reference(key + ".password", smtp.password(), false);
    String security = smtp.security() == null ? "starttls" : smtp.security();
    if (!List.of("none", "starttls", "tls").contains(security)) {
      throw error(key + ".security", "expected none, starttls or tls, got '" + security + "'");
    }
    if (smtp.caFile() != null) {
      absolute(key + ".caFile", smtp.caFile());
    }
    int port = smtp.port() == null ? (security.equals("tls") ? 465 : 587) : smtp.port();
    return new MailServerRef(
        name, smtp.host(), port, security, smtp.username(), smtp.password(), smtp.caFile());
  }

  /** The environment's notification channels, or null when it configures none. */
  public NotifyChannels notify(String env) {
    NotifyConfig n = config.environment(env).notifications();
    if (n == null) {
      return null;
    }
    String key = "environments." + env + ".notify";
    NotifyChannels.Mail mail = null;
    if (n.email() != null) {
      require(key + ".email.from", n.email().from());
      mail =
          new NotifyChannels.Mail(
              smtp(key + ".email.smtp", env + "-notify-smtp", n.email().smtp()),
              n.email().from(),
              n.email().to() == null ? List.of() : n.email().to());
    }
    NotifyChannels.Chat chat = null;
    if (n.chat() != null) {
      reference(key + ".chat.webhook", n.chat().webhook(), true);
      chat =
          new NotifyChannels.Chat(
              n.chat().name() == null ? "chat" : n.chat().name(), n.chat().webhook());
    }
    return mail == null && chat == null ? null : new NotifyChannels(mail, chat);
  }
}

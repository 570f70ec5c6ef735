package dev.crewchief.worker;

import dev.crewchief.config.ConfigChecks;
import dev.crewchief.config.ConfigException;
import dev.crewchief.config.EnvironmentConfig;
import dev.crewchief.config.GateConfig;
import dev.crewchief.config.HostConfig;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.config.PersonConfig;
import dev.crewchief.release.DecisionSignature;
import dev.crewchief.runbook.ConfigSection;
import dev.crewchief.runbook.GateSpec;
import dev.crewchief.runbook.Runbook;
import dev.crewchief.runbook.Runbooks;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The checks of a whole config file that can never work however a release is started: a port out of
 * range, a role nobody holds, a gate nobody can pass or that no runbook has, a public key that
 * cannot check a signature, and each runbook section's own checks. Run when the file is loaded, so
 * that the worker refuses to start on a file the CLI would refuse, and both say the same.
 */
final class ConfigValidation {
  private ConfigValidation() {}

  static void check(LoadedConfig config, Runbooks runbooks) {
    ConfigChecks checks = new ConfigChecks(config);
    TreeSet<String> gateNames = new TreeSet<>();
    TreeSet<String> optionRoles = new TreeSet<>();
    for (Runbook r : runbooks.list()) {
      for (GateSpec g : r.gates()) {
        gateNames.add(g.name());
        optionRoles.addAll(g.defaultRoles());
      }
    }
    for (Map.Entry<String, EnvironmentConfig> e : config.config().environments().entrySet()) {
      String env = e.getKey();
      EnvironmentConfig c = e.getValue();
      String base = "environments." + env;
      if (c == null) {
        throw checks.error(base, "expected a mapping of approvers, hosts, gates, ...");
      }
      if (c.approvers() != null) {
        for (Map.Entry<String, List<String>> role : c.approvers().entrySet()) {
          if (role.getValue() == null || role.getValue().isEmpty()) {
            throw checks.error(
                base + ".approvers." + role.getKey(),
                "nobody holds this role: name its people, e.g. " + role.getKey() + ": [alice]");
          }
        }
      }
      if (c.hosts() != null) {
        for (Map.Entry<String, HostConfig> h : c.hosts().entrySet()) {
          Integer port = h.getValue() == null ? null : h.getValue().port();
          if (port != null && (port < 1 || port > 65535)) {
            throw checks.error(
                base + ".hosts." + h.getKey() + ".port",
                "expected a port number 1-65535, found " + port);
          }
        }
      }
      if (c.people() != null) {
        for (Map.Entry<String, PersonConfig> p : c.people().entrySet()) {
          String key = p.getValue() == null ? null : p.getValue().publicKey();
          String problem = key == null ? null : DecisionSignature.checkPublicKey(key);
          if (problem != null) {
            throw checks.error(base + ".people." + p.getKey() + ".publicKey", problem);
          }
        }
      }
      if (c.gates() != null) {
        for (Map.Entry<String, GateConfig> g : c.gates().entrySet()) {
          gate(checks, base, c, g.getKey(), g.getValue(), gateNames, optionRoles);
        }
      }
      checks.notify(env);
    }
    for (ConfigSection<?> section : runbooks.sections().values()) {
      for (Map.Entry<String, EnvironmentConfig> e : config.config().environments().entrySet()) {
        if (e.getValue().sections().containsKey(section.key())) {
          section.check().check(config, e.getKey());
        }
      }
    }
  }

  private static void gate(
      ConfigChecks checks,
      String base,
      EnvironmentConfig c,
      String name,
      GateConfig g,
      TreeSet<String> gateNames,
      TreeSet<String> optionRoles) {
    String key = base + ".gates." + name;
    if (!gateNames.contains(name)) {
      throw checks.error(
          key,
          "no runbook has a gate '" + name + "'; the gates are: " + String.join(", ", gateNames));
    }
    if (g == null || g.roles() == null) {
      return;
    }
    for (String role : g.roles()) {
      boolean held = c.approvers() != null && c.approvers().containsKey(role);
      // Some runbooks name the holders of their gates' roles at the start (--crew-chief,
      // --driver): those roles need no people in the file.
      if (!held && !optionRoles.contains(role)) {
        throw new ConfigException(
            checks.source()
                + ": "
                + key
                + ".roles: no role '"
                + role
                + "' in "
                + base
                + ".approvers, so nobody could ever pass this gate; the roles are: "
                + (c.approvers() == null
                    ? "(none)"
                    : String.join(", ", new TreeSet<>(c.approvers().keySet()))));
      }
    }
  }
}

package dev.crewchief.runbook;

import dev.crewchief.config.ConfigChecks;
import dev.crewchief.config.EnvironmentConfig;
import dev.crewchief.config.PersonConfig;
import dev.crewchief.release.Person;
import dev.crewchief.release.ReleaseContext;
import java.util.LinkedHashMap;
import java.util.Map;

/** The release context of a start: the environment's people, gate rules and channels. */
final class ReleaseContexts {
  private ReleaseContexts() {}

  static ReleaseContext of(StartRequest r, String runbook) {
    ConfigChecks checks = new ConfigChecks(r.config());
    EnvironmentConfig e = r.env();
    if (e.approvers() == null || e.approvers().isEmpty()) {
      throw checks.error(
          "environments." + r.environment() + ".approvers", "expected role: [people]");
    }
    Map<String, Person> people = new LinkedHashMap<>();
    if (e.people() != null) {
      for (Map.Entry<String, PersonConfig> p : e.people().entrySet()) {
        PersonConfig c = p.getValue();
        people.put(
            p.getKey(), new Person(c == null ? null : c.email(), c == null ? null : c.publicKey()));
      }
    }
    return new ReleaseContext(
        runbook,
        r.environment(),
        r.version(),
        r.dryRun(),
        r.startedBy(),
        e.approvers(),
        e.gates() == null ? Map.of() : e.gates(),
        r.searchAttributes(),
        people,
        // A rehearsal tells nobody: its notifications go to the worker's log only.
        r.dryRun() ? null : checks.notify(r.environment()));
  }
}

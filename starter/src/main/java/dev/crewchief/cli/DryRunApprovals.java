package dev.crewchief.cli;

import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseInput;
import dev.crewchief.runbook.GateSpec;
import dev.crewchief.runbook.Runbook;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who passes each gate of a rehearsal started with {@code --approve-as NAME[,NAME...]}: for every
 * gate of the runbook, the first named person allowed there. Checked before the release starts, so
 * that a rehearsal never waits at a gate for an approval nobody sends.
 */
final class DryRunApprovals {
  private DryRunApprovals() {}

  /**
   * @return gate name to the person who approves it
   * @throws IllegalArgumentException naming the gate, the people it allows and the fix, when no
   *     named person may pass a gate, or the gate takes signed decisions only
   */
  static Map<String, String> assign(Runbook rb, Object input, String approveAs) {
    List<String> named = new ArrayList<>();
    for (String n : approveAs.split(",")) {
      if (!n.isBlank()) {
        named.add(n.strip());
      }
    }
    if (named.isEmpty()) {
      throw new IllegalArgumentException("--approve-as names nobody: give NAME or NAME,NAME");
    }
    if (!(input instanceof ReleaseInput ri)) {
      throw new IllegalStateException(rb.name() + "'s input carries no release context");
    }
    ReleaseContext ctx = ri.context();
    Map<String, String> byGate = new LinkedHashMap<>();
    for (GateSpec g : rb.gates()) {
      List<String> roles = ctx.rolesAt(g.name(), g.defaultRoles());
      List<String> allowed = ctx.holders(roles);
      if (ctx.signedAt(g.name())) {
        throw new IllegalArgumentException(
            "gate "
                + g.name()
                + " in "
                + ctx.environment()
                + " takes signed decisions only, which --approve-as cannot give: start the"
                + " rehearsal without it and pass the gate with `crewchief approve RELEASE "
                + g.name()
                + " --as NAME --sign-with KEY`");
      }
      String who = named.stream().filter(allowed::contains).findFirst().orElse(null);
      if (who == null) {
        throw new IllegalArgumentException(
            "--approve-as "
                + String.join(",", named)
                + ": nobody named may pass gate "
                + g.name()
                + " (it needs "
                + String.join(" or ", roles)
                + ": "
                + (allowed.isEmpty() ? "nobody" : String.join(", ", allowed))
                + "); name one of them, e.g. --approve-as "
                + (allowed.isEmpty() ? "NAME" : allowed.get(0))
                + (byGate.isEmpty() ? "" : "," + String.join(",", byGate.values())));
      }
      byGate.put(g.name(), who);
    }
    return byGate;
  }
}

package dev.crewchief.cli;

import static dev.crewchief.cli.RunbookPlansTest.load;
import static dev.crewchief.cli.RunbookPlansTest.plan;
import static dev.crewchief.cli.RunbookPlansTest.release;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.crewchief.runbook.Runbook;
import dev.crewchief.runbook.Runbooks;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A rehearsal's --approve-as is checked against every gate before the release starts. */
class DryRunApprovalsTest {
  static final Runbook RELEASE = Runbooks.all().find("atmosphere-release");
  static final String WINDOW = "2026-12-10T16:00:00Z";

  static Object releaseInput(Map<String, String> env) {
    return plan(
        "atmosphere-release", load(env), "prod", "36-1", release("andy", "sgregory", WINDOW));
  }

  @Test
  void eachGateIsPassedByTheFirstPersonNamedWhoMayPassIt() {
    assertEquals(
        Map.of("tested-on-beta", "andy", "tested-in-production", "sgregory"),
        DryRunApprovals.assign(RELEASE, releaseInput(Map.of()), "sgregory, andy"));
  }

  @Test
  void somebodyWhoMayNotPassAGateIsRefusedAtOnceNamingWhoMay() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> DryRunApprovals.assign(RELEASE, releaseInput(Map.of()), "andy"));
    assertEquals(
        "--approve-as andy: nobody named may pass gate tested-in-production (it needs driver:"
            + " sgregory); name one of them, e.g. --approve-as sgregory,andy",
        e.getMessage());
    // The release's own crew chief and driver are its gates' people: another crew chief of the
    // environment may not pass this release's beta gate.
    IllegalArgumentException other =
        assertThrows(
            IllegalArgumentException.class,
            () -> DryRunApprovals.assign(RELEASE, releaseInput(Map.of()), "julia,sgregory"));
    assertEquals(
        "--approve-as julia,sgregory: nobody named may pass gate tested-on-beta (it needs"
            + " crew-chief: andy); name one of them, e.g. --approve-as andy",
        other.getMessage());
    assertEquals(
        "--approve-as names nobody: give NAME or NAME,NAME",
        assertThrows(
                IllegalArgumentException.class,
                () -> DryRunApprovals.assign(RELEASE, releaseInput(Map.of()), " , "))
            .getMessage());
  }

  @Test
  void aGateThatTakesSignedDecisionsOnlyCannotBeRehearsedWithApproveAs() {
    Object signed =
        releaseInput(
            Map.of(
                "CREWCHIEF__environments__prod__gates__tested-on-beta__requireSignature", "true"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> DryRunApprovals.assign(RELEASE, signed, "andy,sgregory"));
    assertEquals(
        "gate tested-on-beta in prod takes signed decisions only, which --approve-as cannot give:"
            + " start the rehearsal without it and pass the gate with `crewchief approve RELEASE"
            + " tested-on-beta --as NAME --sign-with KEY`",
        e.getMessage());
  }
}

package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.adapters.Sandbox;
import java.net.ServerSocket;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The README's first command (deploy/demo.sh without the build): with no Temporal address
 * configured, `crewchief start` runs the embedded default (test server on 127.0.0.1:7233 and a
 * worker in the same process), rehearses a whole promotion, passes its gate as alice and prints the
 * report.
 */
class EmbeddedDefaultIT {
  @Test
  void dryRunPromotionOnTheEmbeddedDefault() throws Exception {
    try (ServerSocket probe = new ServerSocket(7233)) {
      probe.close();
    } catch (java.io.IOException busy) {
      Assumptions.abort("127.0.0.1:7233 is taken by another process");
    }
    Crewchief cc =
        new Crewchief(
            Sandbox.repoRoot().resolve("deploy/examples/randopony-demo.yaml").toString(), null);
    cc.env()
        .put(
            "CREWCHIEF__environments__demo__randopony__sourceDir",
            Sandbox.repoRoot().resolve("deploy/sandbox/randopony-tetra").toString());
    Crewchief.Result r =
        cc.run(
            "start",
            "randopony-promote",
            "--env",
            "demo",
            "--version",
            "2014r1",
            "--previous",
            "2013r1",
            "--dry-run",
            "--approve-as",
            "alice");
    assertEquals(0, r.exit(), r.out());
    assertTrue(r.out().contains("Outcome: COMPLETED - rehearsed: randopony2014r1"), r.out());
    assertTrue(r.out().contains("| confirm-release | APPROVED | alice |"), r.out());
    assertTrue(r.out().contains("| attach production domain to 2014r1 |"), r.out());
  }
}

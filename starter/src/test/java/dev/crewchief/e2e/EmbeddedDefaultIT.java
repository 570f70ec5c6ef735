package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.adapters.Sandbox;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The README's first command, deploy/demo.sh (without its build): with no Temporal address
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
    // The script itself, as the README tells a newcomer to run it (the build is the test's own).
    ProcessBuilder pb =
        new ProcessBuilder("bash", "deploy/demo.sh")
            .directory(Sandbox.repoRoot().toFile())
            .redirectErrorStream(true);
    pb.environment().remove("TEMPORAL_ADDRESS");
    pb.environment().remove("RANDOPONY_SSH_KEY");
    pb.environment().put("CREWCHIEF_DEMO_SKIP_BUILD", "1");
    pb.environment().put("CREWCHIEF_JAVA_OPTS", "");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "demo.sh did not end: " + out);
    System.out.println("$ deploy/demo.sh\n" + out + "(exit " + p.exitValue() + ")");
    Crewchief.Result r = new Crewchief.Result(p.exitValue(), out);
    assertEquals(0, r.exit(), r.out());
    assertTrue(r.out().contains("Outcome: COMPLETED - rehearsed: randopony2014r1"), r.out());
    assertTrue(r.out().contains("| confirm-release | APPROVED | alice |"), r.out());
    assertTrue(r.out().contains("| attach production domain to 2014r1 |"), r.out());
  }
}

package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.adapters.Sandbox;
import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The packaged CLI and worker (starter/target), run as separate processes, and curl. */
final class Packaged {
  private Packaged() {}

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  static String classpath() {
    Path target = Sandbox.repoRoot().resolve("starter/target");
    File[] jars =
        target
            .toFile()
            .listFiles(
                (d, n) ->
                    n.startsWith("crewchief-starter-")
                        && n.endsWith(".jar")
                        && !n.contains("tests"));
    assertTrue(jars != null && jars.length == 1, "package the starter first (mvn verify does)");
    return jars[0] + File.pathSeparator + target.resolve("lib") + File.separator + "*";
  }

  static String curl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-m", "10"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(20, TimeUnit.SECONDS);
    return out;
  }
}

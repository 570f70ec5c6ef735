package dev.crewchief.randopony;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Every command the RandoPony runbook sends to its host is valid bash, for the stand-in's layout
 * and for a pyproject.toml app with a wheelhouse (checked with {@code bash -n}, which parses
 * without running): a quoting slip is otherwise found on the host, half-way through a release.
 */
class RandoPonyCommandsShellTest {

  static Map<String, String> commands(RandoPonySite site) {
    RandoPonyCommands c = new RandoPonyCommands(site);
    Map<String, String> all = new LinkedHashMap<>();
    all.put("createVirtualenv", c.createVirtualenv("2014r1"));
    all.put("installApp", c.installApp("2014r1"));
    all.put("removeTemplateFiles", c.removeTemplateFiles("2014r1"));
    String credentials = c.tightenCredentials("2014r1");
    if (credentials != null) {
      all.put("tightenCredentials", credentials);
    }
    all.put("setPort", c.setPort("2014r1"));
    all.put("linkConfig staging", c.linkConfig("2014r1", "staging"));
    all.put("linkConfig production", c.linkConfig("2014r1", "production"));
    all.put("initDatabase", c.initDatabase("2014r1", "production"));
    all.put("startApp", c.startApp("2014r1"));
    all.put("stopApp", c.stopApp("2014r1"));
    all.put("startSupervisor", c.startSupervisor("2014r1"));
    all.put("stopSupervisor", c.stopSupervisor("2014r1"));
    all.put("copyDatabases", c.copyDatabases("2013r1", "2014r1"));
    all.put("removeCopiedDatabases", c.removeCopiedDatabases("2014r1"));
    all.put("restoreArchive", c.restoreArchive("2014r1", "/home/u/archive/x.tar.gz"));
    return all;
  }

  static void assertParses(RandoPonySite site) throws Exception {
    for (var e : commands(site).entrySet()) {
      Process p =
          new ProcessBuilder("bash", "-n", "-c", e.getValue()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(10, TimeUnit.SECONDS);
      assertEquals(0, p.exitValue(), e.getKey() + ": " + out + "\n" + e.getValue());
    }
  }

  @Test
  void theStandInsCommandsAreValidBash() throws Exception {
    assertParses(PromoteToProductionTest.SITE);
  }

  @Test
  void aPyprojectAppsCommandsAreValidBash() throws Exception {
    assertParses(StagingDeployTest.site(StagingDeployTest.PYPROJECT));
  }
}

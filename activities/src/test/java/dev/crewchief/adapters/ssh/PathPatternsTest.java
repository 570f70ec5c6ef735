package dev.crewchief.adapters.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The upload's patterns and the shell's "not found" words, without a host. */
class PathPatternsTest {
  @Test
  void aPatternWithoutASlashMatchesAnySegmentOneWithASlashThePathFromTheTop() {
    PathPatterns p = new PathPatterns(List.of("*.sqlite", "__pycache__", "data/uploads/", "?.tmp"));
    record Case(String path, boolean matches) {}
    for (Case c :
        List.of(
            new Case("app.sqlite", true),
            new Case("pkg/db/app.sqlite", true),
            new Case("app.sqlite3", false),
            new Case("pkg/__pycache__/x.pyc", true),
            new Case("pkg/__pycache__x/y.py", false),
            new Case("data/uploads", true),
            new Case("data/uploads/a/b.jpg", true),
            new Case("src/data/uploads/b.jpg", false),
            new Case("data/uploads2/b.jpg", false),
            new Case("a.tmp", true),
            new Case("ab.tmp", false),
            new Case("x.sqlite.py", false))) {
      assertEquals(c.matches(), p.matches(c.path()), c.path());
    }
    assertEquals(false, new PathPatterns(null).matches("a"));
  }

  @Test
  void theToolIsReadFromTheShellsOwnWords() {
    assertEquals("nginx", ToolMissing.tool("bash: line 1: nginx: command not found\n"));
    assertEquals("nginx", ToolMissing.tool("/bin/bash: line 10: nginx: command not found"));
    assertEquals("nginx", ToolMissing.tool("sh: 1: nginx: not found"));
    assertEquals(
        "/home/u/venv/bin/python",
        ToolMissing.tool("warming up\n/home/u/bin/start: 5: /home/u/venv/bin/python: not found\n"));
    assertEquals(
        "/usr/bin/nope",
        ToolMissing.tool("bash: line 1: /usr/bin/nope: No such file or directory"));
    assertEquals("supervisord", ToolMissing.tool("supervisord: command not found"));
    assertNull(ToolMissing.tool("Segmentation fault"));
    assertNull(ToolMissing.tool(null));
  }
}

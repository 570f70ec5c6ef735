package dev.crewchief.adapters.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The line editor on its own: only the value of an image line changes, byte for byte. */
class ComposeFileTest {
  @Test
  void lineEndingsAndAMissingFinalNewlineAreKept() {
    String text = "services:\r\n  app:\r\n    image: a/app:1\r\n    ports: ['80:80']";
    ComposeFile f = ComposeFile.parse("c.yml", text);
    assertEquals(Map.of("app", "a/app:1"), f.images(List.of("app")));
    assertEquals(text.replace("a/app:1", "a/app:2"), f.with(Map.of("app", "a/app:2")));
  }

  @Test
  void quotesCommentsAndQuotedServiceNamesAreKept() {
    String text =
        """
        # top
        services:   # the services
          "web":
            # before
            image: 'a/web:1'   # pinned
          'db':
            image: "postgres:15"
        """;
    ComposeFile f = ComposeFile.parse("c.yml", text);
    assertEquals(Map.of("web", "a/web:1", "db", "postgres:15"), f.images(List.of("web", "db")));
    assertEquals(
        text.replace("a/web:1", "a/web:2").replace("postgres:15", "postgres:16"),
        f.with(Map.of("web", "a/web:2", "db", "postgres:16")));
  }

  @Test
  void onlyTheServicesOwnImageKeyCounts() {
    // An image key deeper in the service (here in a label's map) is not the service's image.
    String text =
        """
        services:
          app:
            labels:
              image: not-this:1
            image: a/app:1
        """;
    ComposeFile f = ComposeFile.parse("c.yml", text);
    assertEquals(Map.of("app", "a/app:1"), f.images(List.of("app")));
    assertEquals(text.replace("a/app:1", "a/app:2"), f.with(Map.of("app", "a/app:2")));
  }

  @Test
  void aServiceOnOneLineIsRefused() {
    ComposeFile f = ComposeFile.parse("c.yml", "services:\n  app: {image: a/app:1}\n");
    ComposeFile.Invalid e = assertThrows(ComposeFile.Invalid.class, () -> f.images(List.of("app")));
    assertTrue(e.getMessage().contains("written on one line"), e.getMessage());
  }

  @Test
  void aFileWithoutServicesIsNoComposeFile() {
    ComposeFile.Invalid e =
        assertThrows(ComposeFile.Invalid.class, () -> ComposeFile.parse("c.yml", "version: 3\n"));
    assertTrue(e.getMessage().contains("has no `services:` mapping"), e.getMessage());
  }
}

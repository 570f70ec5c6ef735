package dev.crewchief.adapters.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TextReplacementTest {

  @Test
  void everyOccurrenceIsReplacedAndCounted() {
    TextReplacement t = TextReplacement.of("a old b old\nold", "old", "new");
    assertEquals(3, t.from());
    assertEquals(0, t.to());
    assertEquals("a new b new\nnew", t.result());
    TextReplacement again = TextReplacement.of(t.result(), "old", "new");
    assertFalse(again.changes());
    assertEquals(3, again.to());
  }

  @Test
  void aReplacementContainingTheOriginalIsNotReplacedAgain() {
    TextReplacement t = TextReplacement.of("listen 808; # 808", "808", "8080");
    assertEquals(2, t.from());
    assertEquals("listen 8080; # 8080", t.result());
    TextReplacement again = TextReplacement.of(t.result(), "808", "8080");
    assertFalse(again.changes());
    assertEquals(2, again.to());
    assertEquals(t.result(), again.result());
    // Half done (a file edited by hand meanwhile): only what is left is replaced.
    TextReplacement half = TextReplacement.of("8080 808", "808", "8080");
    assertEquals(1, half.from());
    assertEquals("8080 8080", half.result());
  }

  @Test
  void withoutEitherTextNothingChanges() {
    TextReplacement t = TextReplacement.of("nothing", "old", "new");
    assertFalse(t.changes());
    assertEquals(0, t.to());
    assertTrue(TextReplacement.of("x", "x", "").changes());
  }
}

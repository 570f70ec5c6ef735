package dev.crewchief.adapters.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Scrubbing through the shapes activity results have. */
class ValueScrubberTest {
  static final String SECRET = "value-scrubber-secret";

  record Leaf(String text, int count, Duration took) {}

  record Tree(String name, List<Leaf> leaves, Map<String, String> env, Set<String> tags) {}

  record WithOptional(Optional<String> note) {}

  record Strict(String id) {
    Strict {
      if (!id.matches("[a-z-]+")) {
        throw new IllegalArgumentException("bad id " + id);
      }
    }
  }

  private final ValueScrubber values;

  ValueScrubberTest() {
    KnownSecrets known = new KnownSecrets();
    known.register(SECRET);
    values = new ValueScrubber(new Scrubber(known));
  }

  @Test
  void recordsAndCollectionsAreRebuiltWithTheirStringsScrubbed() {
    Tree t =
        new Tree(
            "tree with " + SECRET,
            List.of(new Leaf("ok", 1, Duration.ofSeconds(2)), new Leaf(SECRET, 3, null)),
            new TreeMap<>(Map.of("PGPASSWORD", SECRET, "key-" + SECRET, "plain")),
            Set.of("a", SECRET));

    Tree s = (Tree) values.scrub(t);

    assertEquals("tree with ***", s.name());
    assertEquals(
        List.of(new Leaf("ok", 1, Duration.ofSeconds(2)), new Leaf("***", 3, null)), s.leaves());
    assertEquals(Map.of("PGPASSWORD", "***", "key-***", "plain"), s.env());
    assertEquals(Set.of("a", "***"), s.tags());
    assertFalse(s.toString().contains(SECRET));
    // Unchanged parts stay the same instances.
    assertSame(t.leaves().get(0), s.leaves().get(0));
  }

  @Test
  void aValueWithoutSecretsIsReturnedAsItIs() {
    Tree t = new Tree("clean", List.of(new Leaf("ok", 1, null)), Map.of("a", "b"), Set.of("x"));
    assertSame(t, values.scrub(t));
    assertSame(t.leaves(), values.scrub(t.leaves()));
  }

  @Test
  void optionalsAndOtherTypes() {
    WithOptional o = (WithOptional) values.scrub(new WithOptional(Optional.of("note " + SECRET)));
    assertEquals(Optional.of("note ***"), o.note());
    WithOptional empty = new WithOptional(Optional.empty());
    assertSame(empty, values.scrub(empty));
    Integer n = 42;
    assertSame(n, values.scrub(n));
    StringBuilder notAString = new StringBuilder(SECRET);
    assertSame(notAString, values.scrub(notAString));
    assertEquals(null, values.scrub(null));
  }

  @Test
  void aRecordThatRefusesTheScrubbedValueFailsTheActivityRatherThanLeak() {
    assertSame(Strict.class, values.scrub(new Strict("fine")).getClass());
    ApplicationFailure f =
        assertThrows(ApplicationFailure.class, () -> values.scrub(new Strict(SECRET)));
    assertEquals("ResultNotScrubbable", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains(Strict.class.getName()), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("bad id ***"), f.getOriginalMessage());
  }
}

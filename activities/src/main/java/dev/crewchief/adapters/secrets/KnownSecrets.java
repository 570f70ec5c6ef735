package dev.crewchief.adapters.secrets;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The secret values this worker has resolved, so that a {@link Scrubber} can mask them wherever an
 * activity prints them.
 *
 * <p>Thread-safe. Values are registered rarely (once per distinct secret, in practice) and read on
 * every activity completion, so the set is copy-on-write: a reader gets an immutable snapshot
 * without locking, and a changed snapshot is a new object, which lets a reader cache what it
 * derived from the previous one.
 */
public final class KnownSecrets {
  private final AtomicReference<Set<String>> values = new AtomicReference<>(Set.of());

  /**
   * Registers a resolved value. Surrounding whitespace is not kept: a secret file usually ends with
   * a newline that is not part of the secret, and the stripped value is a part of the raw one, so
   * masking it masks every print of either. Null and blank values are ignored.
   *
   * @return whether the value was new
   */
  public boolean register(String value) {
    if (value == null || value.isBlank()) {
      return false;
    }
    String v = value.strip();
    while (true) {
      Set<String> current = values.get();
      if (current.contains(v)) {
        return false;
      }
      Set<String> next = new LinkedHashSet<>(current);
      next.add(v);
      if (values.compareAndSet(current, Set.copyOf(next))) {
        return true;
      }
    }
  }

  /**
   * The values registered so far, as an immutable snapshot. A registration after this call does not
   * change the returned set; it makes the next call return a different object.
   */
  public Set<String> values() {
    return values.get();
  }
}

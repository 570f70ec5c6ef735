package dev.crewchief.adapters.secrets;

import io.temporal.failure.ApplicationFailure;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Scrubs the strings inside an activity's result: through records, lists, sets, map keys and
 * values, and optionals. Other types pass unchanged (numbers, enums, times; the activities return
 * records of those and of strings).
 *
 * <p>A value in which nothing changed is returned as the same instance, so that a result without
 * secrets reaches the data converter exactly as the activity made it. A changed record is rebuilt
 * through its canonical constructor, a changed collection as a mutable copy of the same kind
 * (insertion-ordered), which the data converter serialises the same way.
 */
final class ValueScrubber {
  private final Scrubber scrubber;

  ValueScrubber(Scrubber scrubber) {
    this.scrubber = scrubber;
  }

  /**
   * The value with its strings scrubbed.
   *
   * @throws ApplicationFailure {@code ResultNotScrubbable} (not retryable) if a record that holds a
   *     secret cannot be rebuilt, since it must not go into history as it is
   */
  Object scrub(Object value) {
    if (value == null) {
      return null;
    }
    if (value instanceof String s) {
      return scrubber.scrub(s);
    }
    if (value instanceof Record r) {
      return record(r);
    }
    if (value instanceof List<?> l) {
      return list(l);
    }
    if (value instanceof Set<?> s) {
      return set(s);
    }
    if (value instanceof Map<?, ?> m) {
      return map(m);
    }
    if (value instanceof Optional<?> o) {
      if (o.isEmpty()) {
        return o;
      }
      Object v = scrub(o.get());
      return v == o.get() ? o : Optional.ofNullable(v);
    }
    return value;
  }

  private Object list(List<?> l) {
    List<Object> out = new ArrayList<>(l.size());
    boolean changed = false;
    for (Object e : l) {
      Object s = scrub(e);
      changed |= s != e;
      out.add(s);
    }
    return changed ? out : l;
  }

  private Object set(Set<?> set) {
    Set<Object> out = new LinkedHashSet<>();
    boolean changed = false;
    for (Object e : set) {
      Object s = scrub(e);
      changed |= s != e;
      out.add(s);
    }
    return changed ? out : set;
  }

  private Object map(Map<?, ?> map) {
    // Two keys that differ only in a secret become one key; the later entry wins, which loses an
    // entry rather than a secret.
    Map<Object, Object> out = new LinkedHashMap<>();
    boolean changed = false;
    for (Map.Entry<?, ?> e : map.entrySet()) {
      Object k = scrub(e.getKey());
      Object v = scrub(e.getValue());
      changed |= k != e.getKey() || v != e.getValue();
      out.put(k, v);
    }
    return changed ? out : map;
  }

  private Object record(Record r) {
    RecordComponent[] components = r.getClass().getRecordComponents();
    Object[] values = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    boolean changed = false;
    for (int i = 0; i < components.length; i++) {
      Object original = read(r, components[i]);
      values[i] = scrub(original);
      types[i] = components[i].getType();
      changed |= values[i] != original;
    }
    if (!changed) {
      return r;
    }
    try {
      Constructor<?> canonical = r.getClass().getDeclaredConstructor(types);
      canonical.setAccessible(true);
      return canonical.newInstance(values);
    } catch (InvocationTargetException e) {
      // The record's constructor refused a scrubbed component (one that validates its format,
      // say). The result must not go into history unscrubbed, so the activity fails instead.
      throw notScrubbable(r, String.valueOf(e.getCause()));
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw notScrubbable(r, e.toString());
    }
  }

  private static Object read(Record r, RecordComponent c) {
    try {
      var accessor = c.getAccessor();
      accessor.setAccessible(true);
      return accessor.invoke(r);
    } catch (InvocationTargetException e) {
      throw notScrubbable(r, String.valueOf(e.getCause()));
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw notScrubbable(r, e.toString());
    }
  }

  private static ApplicationFailure notScrubbable(Record r, String why) {
    // The reason is a class and a message about the record's shape; it passes through the
    // failure scrubber like any other message before it reaches history.
    return ApplicationFailure.newNonRetryableFailure(
        "the activity's result (a "
            + r.getClass().getName()
            + ") holds a secret and cannot be rebuilt with it masked: "
            + why,
        "ResultNotScrubbable");
  }
}

package dev.crewchief.adapters.secrets;

import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the secret references in a configuration, for {@link SecretResolver#preload}: every string
 * of the form {@code file:/path} or {@code env:NAME} in a graph of records, collections, maps and
 * optionals. Looking at the values rather than at field names means a new kind of secret in the
 * configuration is preloaded without anyone remembering to list it here.
 */
public final class SecretReferences {
  private SecretReferences() {}

  /** The distinct references in {@code config}, in the order met. */
  public static Set<String> in(Object config) {
    Set<String> out = new LinkedHashSet<>();
    collect(config, out, 0);
    return out;
  }

  private static void collect(Object value, Set<String> out, int depth) {
    // Configurations are shallow trees; the bound only stops a cycle through a mutable map.
    if (value == null || depth > 32) {
      return;
    }
    if (value instanceof String s) {
      if (SecretResolver.wellFormed(s)) {
        out.add(s);
      }
    } else if (value instanceof Record r) {
      for (RecordComponent c : r.getClass().getRecordComponents()) {
        try {
          var accessor = c.getAccessor();
          accessor.setAccessible(true);
          collect(accessor.invoke(r), out, depth + 1);
        } catch (ReflectiveOperationException | RuntimeException e) {
          // A component that cannot be read holds no reference we could preload.
        }
      }
    } else if (value instanceof Collection<?> c) {
      c.forEach(e -> collect(e, out, depth + 1));
    } else if (value instanceof Map<?, ?> m) {
      m.values().forEach(e -> collect(e, out, depth + 1));
    } else if (value instanceof Optional<?> o) {
      o.ifPresent(e -> collect(e, out, depth + 1));
    }
  }
}

package dev.crewchief.release;

import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The release's own check of the secret references in its input: every record component named
 * {@code ...Ref} (privateKeyRef, passwordRef, registryAuthRef, webhookRef, ...) is a reference,
 * {@code file:/path} or {@code env:NAME}, or absent. The CLI checks the config the same way; this
 * check holds for a release started by any client, so that a secret pasted into a start request is
 * refused before any step runs, and never echoed (it may be the secret itself).
 */
final class SecretRefs {
  private static final Pattern REFERENCE = Pattern.compile("file:/.+|env:[A-Za-z_][A-Za-z0-9_]*");

  private SecretRefs() {}

  /** Throws IllegalArgumentException naming the field (never its value) of a malformed one. */
  static void check(Object input) {
    walk(input, "input", 0);
  }

  private static void walk(Object value, String where, int depth) {
    if (value == null || depth > 16) {
      return;
    }
    if (value instanceof Record r) {
      for (RecordComponent c : r.getClass().getRecordComponents()) {
        Object v;
        try {
          v = c.getAccessor().invoke(r);
        } catch (ReflectiveOperationException e) {
          continue;
        }
        String at = where + "." + c.getName();
        if (c.getName().endsWith("Ref")
            && v instanceof String s
            && !REFERENCE.matcher(s).matches()) {
          throw new IllegalArgumentException(
              at
                  + " is not a secret reference (file:/path or env:NAME); its value is not shown,"
                  + " since it may be the secret itself. Pass references, never secrets");
        }
        walk(v, at, depth + 1);
      }
    } else if (value instanceof Collection<?> c) {
      int i = 0;
      for (Object o : c) {
        walk(o, where + "[" + i++ + "]", depth + 1);
      }
    } else if (value instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        walk(e.getValue(), where + "." + e.getKey(), depth + 1);
      }
    }
  }
}

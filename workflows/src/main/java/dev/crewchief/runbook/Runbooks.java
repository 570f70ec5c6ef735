package dev.crewchief.runbook;

import dev.crewchief.release.LaneHoldImpl;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The runbooks this build knows: the descriptors registered in {@code
 * META-INF/services/dev.crewchief.runbook.Runbook}. The CLI, the config loader, {@code list}, the
 * report, the worker and the replay tests all read them here; nothing else names a runbook.
 */
public final class Runbooks {
  private final Map<String, Runbook> byName;

  private Runbooks(Map<String, Runbook> byName) {
    this.byName = byName;
  }

  private static volatile Runbooks loaded;

  /** The registered runbooks, loaded once. */
  public static Runbooks all() {
    Runbooks r = loaded;
    if (r == null) {
      Map<String, Runbook> m = new TreeMap<>();
      for (Runbook rb : ServiceLoader.load(Runbook.class, Runbooks.class.getClassLoader())) {
        Runbook before = m.put(rb.name(), rb);
        if (before != null) {
          throw new IllegalStateException(
              "two runbooks are named "
                  + rb.name()
                  + ": "
                  + before.getClass()
                  + ", "
                  + rb.getClass());
        }
      }
      r = new Runbooks(m);
      loaded = r;
    }
    return r;
  }

  /** In name order. */
  public List<Runbook> list() {
    return List.copyOf(byName.values());
  }

  public List<String> names() {
    return List.copyOf(byName.keySet());
  }

  /** The runbook of that name, or null. */
  public Runbook find(String name) {
    return byName.get(name);
  }

  /** The runbook whose releases have this workflow type, or null. */
  public Runbook ofWorkflowType(String type) {
    for (Runbook r : byName.values()) {
      if (r.workflowType().equals(type)) {
        return r;
      }
    }
    return null;
  }

  /** The config sections of all runbooks by key (shared sections once). */
  public Map<String, ConfigSection<?>> sections() {
    Map<String, ConfigSection<?>> out = new LinkedHashMap<>();
    for (Runbook r : byName.values()) {
      ConfigSection<?> s = r.configSection();
      if (s == null) {
        continue;
      }
      ConfigSection<?> other = out.putIfAbsent(s.key(), s);
      if (other != null && other.type() != s.type()) {
        throw new IllegalStateException(
            "config section " + s.key() + " is read as " + other.type() + " and " + s.type());
      }
    }
    return out;
  }

  /**
   * Every workflow implementation to register: the platform's own (the lane hold) and each
   * runbook's, once each, in a stable order (replay tests take the first as their main class).
   */
  public Class<?>[] workflowImplementations() {
    List<Class<?>> out = new ArrayList<>();
    out.add(LaneHoldImpl.class);
    for (Runbook r : byName.values()) {
      for (Class<?> c : r.workflowImplementations()) {
        if (!out.contains(c)) {
          out.add(c);
        }
      }
    }
    return out.toArray(new Class<?>[0]);
  }

  /**
   * The runbook, environment and version of a release id ({@code release-RUNBOOK-ENV-VERSION}), or
   * null when it is not one of a known runbook. Each runbook's version form decides where the
   * environment ends, since Atmosphere's versions (36-1) contain a dash themselves.
   */
  public String[] parseReleaseId(String id) {
    // Longest names first, so that a runbook named like the start of another cannot take its ids.
    List<Runbook> longestFirst = new ArrayList<>(byName.values());
    longestFirst.sort((a, b) -> b.name().length() - a.name().length());
    for (Runbook r : longestFirst) {
      String prefix = "release-" + r.name() + "-";
      if (!id.startsWith(prefix)) {
        continue;
      }
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("(.+)-(" + r.versionFormat().regex() + ")")
              .matcher(id.substring(prefix.length()));
      if (m.matches()) {
        return new String[] {r.name(), m.group(1), m.group(2)};
      }
    }
    return null;
  }
}

package dev.crewchief.adapters.secrets;

import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Resolves secret references inside activities, so that only the reference ever appears in workflow
 * history. Supported forms: {@code file:/path/to/secret} and {@code env:VARIABLE}.
 *
 * <p>Every value it resolves is registered in its {@link KnownSecrets}, which the worker's {@link
 * ScrubbingInterceptor} reads to mask the value wherever an activity's result or failure prints it.
 */
public final class SecretResolver {
  private static final String MALFORMED =
      " is not of the form file:/path or env:NAME (not shown: it may be the secret itself)";

  private final Map<String, String> env;
  private final KnownSecrets known;

  /** With a registry of its own (see {@link #known()}). */
  public SecretResolver(Map<String, String> env) {
    this(env, new KnownSecrets());
  }

  /**
   * @param known where every resolved value is registered; share it with the worker's {@link
   *     ScrubbingInterceptor}
   */
  public SecretResolver(Map<String, String> env, KnownSecrets known) {
    this.env = env;
    this.known = known;
  }

  /** The registry this resolver registers every resolved value in. */
  public KnownSecrets known() {
    return known;
  }

  /**
   * The secret's value, or a non-retryable {@code SecretUnresolved} failure saying what to fix. A
   * file's content is returned as it is, trailing newline included; callers strip it.
   */
  public String resolve(String reference, String usedFor) {
    if (reference == null || reference.isBlank()) {
      throw failure("no secret reference configured for " + usedFor);
    }
    try {
      return lookUp(reference);
    } catch (Unresolved u) {
      throw failure(
          u.malformed
              ? "a secret reference for " + usedFor + MALFORMED
              : "secret " + reference + " for " + usedFor + u.joiner + u.getMessage());
    }
  }

  /**
   * Resolves each reference now, so that the configured secrets are masked in activity outputs even
   * before an activity first uses them (a command may print a password it was never given through
   * this resolver, such as one in a compose file on the host).
   *
   * @return one line per reference that could not be resolved or cannot be masked, as {@code
   *     "reference: problem"}; never a value, and for a malformed reference not the reference
   *     either
   */
  public List<String> preload(Collection<String> references) {
    List<String> problems = new ArrayList<>();
    for (String reference : references) {
      if (reference == null || reference.isBlank()) {
        continue;
      }
      try {
        String value = lookUp(reference).strip();
        if (value.isEmpty()) {
          problems.add(reference + ": is empty");
        } else if (value.length() < Scrubber.MIN_SECRET_LENGTH) {
          problems.add(
              reference
                  + ": shorter than "
                  + Scrubber.MIN_SECRET_LENGTH
                  + " characters, too short to be masked in outputs");
        }
      } catch (Unresolved u) {
        problems.add(u.malformed ? "a reference" + MALFORMED : reference + ": " + u.getMessage());
      }
    }
    return problems;
  }

  /** Checks the form of a reference without reading it (used by dry runs). */
  public static boolean wellFormed(String reference) {
    return reference != null
        && (reference.startsWith("file:/") || reference.matches("env:[A-Za-z_][A-Za-z0-9_]*"));
  }

  private String lookUp(String reference) throws Unresolved {
    if (reference.startsWith("file:")) {
      Path p = Path.of(reference.substring("file:".length()));
      String value;
      try {
        value = Files.readString(p);
      } catch (IOException e) {
        throw new Unresolved(
            " ",
            "cannot be read on this worker: "
                + e.getClass().getSimpleName()
                + " "
                + e.getMessage());
      }
      known.register(value);
      return value;
    }
    if (reference.startsWith("env:")) {
      String name = reference.substring("env:".length());
      String value = env.get(name);
      if (value == null || value.isEmpty()) {
        throw new Unresolved(": ", "variable " + name + " is not set on the worker");
      }
      known.register(value);
      return value;
    }
    // A "reference" of neither form is often the secret pasted into the config instead of a
    // reference to it: masked like one, so that an output that prints it does not spread it.
    known.register(reference);
    throw Unresolved.malformed();
  }

  private static ApplicationFailure failure(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "SecretUnresolved");
  }

  /**
   * Why a reference did not resolve. The message never holds a value; {@code joiner} is what the
   * failure message puts between "secret REF for WHAT" and the reason, kept as it always was.
   */
  private static final class Unresolved extends Exception {
    private final String joiner;
    private final boolean malformed;

    Unresolved(String joiner, String reason) {
      this(joiner, reason, false);
    }

    private Unresolved(String joiner, String reason, boolean malformed) {
      super(reason, null, false, false);
      this.joiner = joiner;
      this.malformed = malformed;
    }

    static Unresolved malformed() {
      return new Unresolved("", "not of the form file:/path or env:NAME", true);
    }
  }
}

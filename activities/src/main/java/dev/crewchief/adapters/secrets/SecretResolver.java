package dev.crewchief.adapters.secrets;

import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Resolves secret references inside activities, so that only the reference ever appears in workflow
 * history. Supported forms: {@code file:/path/to/secret} and {@code env:VARIABLE}.
 */
public final class SecretResolver {
  private final Map<String, String> env;

  public SecretResolver(Map<String, String> env) {
    this.env = env;
  }

  /** The secret's value, or a non-retryable {@code SecretUnresolved} failure saying what to fix. */
  public String resolve(String reference, String usedFor) {
    if (reference == null || reference.isBlank()) {
      throw failure("no secret reference configured for " + usedFor);
    }
    if (reference.startsWith("file:")) {
      Path p = Path.of(reference.substring("file:".length()));
      try {
        return Files.readString(p);
      } catch (IOException e) {
        throw failure(
            "secret "
                + reference
                + " for "
                + usedFor
                + " cannot be read on this worker: "
                + e.getClass().getSimpleName()
                + " "
                + e.getMessage());
      }
    }
    if (reference.startsWith("env:")) {
      String name = reference.substring("env:".length());
      String value = env.get(name);
      if (value == null || value.isEmpty()) {
        throw failure(
            "secret "
                + reference
                + " for "
                + usedFor
                + ": variable "
                + name
                + " is not set on the worker");
      }
      return value;
    }
    throw failure(
        "secret reference '"
            + reference
            + "' for "
            + usedFor
            + " is not of the form file:/path or env:NAME");
  }

  /** Checks the form of a reference without reading it (used by dry runs). */
  public static boolean wellFormed(String reference) {
    return reference != null
        && (reference.startsWith("file:/") || reference.matches("env:[A-Za-z_][A-Za-z0-9_]*"));
  }

  private static ApplicationFailure failure(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "SecretUnresolved");
  }
}

package dev.crewchief.config;

/**
 * A configuration problem a person must fix: names the file, the key and what is expected. The
 * worker and the CLI turn it into exit code 2.
 */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The error for a key that is missing or has a wrong value. */
  public static ConfigException at(String source, String key, String problem) {
    return new ConfigException(source + ": " + key + ": " + problem);
  }
}

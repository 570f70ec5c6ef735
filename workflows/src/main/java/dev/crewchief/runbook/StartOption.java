package dev.crewchief.runbook;

/**
 * A start option of one runbook, e.g. {@code --driver NAME}. Its value reaches {@link Runbook#plan}
 * under its name without dashes.
 *
 * @param name the option without its dashes: "driver" for {@code --driver}
 * @param label what the value is, for the usage line: "NAME"
 * @param defaultValue used when it is not given (null: none)
 */
public record StartOption(
    String name, String label, String description, boolean required, String defaultValue) {

  public static StartOption required(String name, String label, String description) {
    return new StartOption(name, label, description, true, null);
  }

  public static StartOption optional(
      String name, String label, String description, String defaultValue) {
    return new StartOption(name, label, description, false, defaultValue);
  }
}

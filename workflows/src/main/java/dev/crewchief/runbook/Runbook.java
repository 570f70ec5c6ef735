package dev.crewchief.runbook;

import dev.crewchief.release.Lane;
import java.util.List;

/**
 * A runbook as the platform knows it: everything the CLI, {@code list}, the report, the worker and
 * the replay tests need, in one place, so that adding a runbook is its package, this descriptor and
 * one line in {@code META-INF/services/dev.crewchief.runbook.Runbook}.
 *
 * <p>Implementations hold no state and do no I/O: {@link #plan} turns configuration that has
 * already been read into the workflow's input.
 */
public interface Runbook {
  /** The name people type: {@code crewchief start NAME}; also the release ids' runbook part. */
  String name();

  /** One line for {@code crewchief start --help}. */
  String summary();

  /** The full description for {@code crewchief start NAME --help}: what it does, in order. */
  String description();

  /** The Temporal workflow type a release of this runbook starts. */
  String workflowType();

  /** The workflow implementations the worker registers for it (children included). */
  List<Class<?>> workflowImplementations();

  /** The form of its versions. */
  VersionFormat versionFormat();

  /** What one of its releases holds exclusively in an environment while it runs. */
  Lane lane(String environment);

  /** Its settings under {@code environments.ENV}, or null when it has none of its own. */
  ConfigSection<?> configSection();

  /** Where its example configuration lives in the repository (for messages and help). */
  String exampleConfig();

  /** Its start options beyond the common ones ({@code --env --version --dry-run ...}). */
  List<StartOption> options();

  /** Its gates, with the roles that pass them unless configured otherwise. */
  List<GateSpec> gates();

  /**
   * The workflow's input for a start, from configuration and options; a problem is a {@link
   * dev.crewchief.config.ConfigException} naming the file and key, or an IllegalArgumentException
   * naming the option.
   */
  Object plan(StartRequest request);
}

package dev.crewchief.runbook;

import dev.crewchief.release.Lane;
import java.util.List;
import java.util.function.Function;

/**
 * A runbook's descriptor made of its facts ({@link Spec}) and its plan: what a runbook's registered
 * class extends, so that it says what it is once, in one place, and writes only its plan.
 */
public abstract class RunbookDescriptor implements Runbook {
  /**
   * What a runbook is. {@code lane} gives the lane of its releases in an environment: usually
   * {@link Lane#of} its own name, or a lane shared with the runbooks that act on the same systems.
   */
  public record Spec(
      String name,
      String summary,
      String description,
      String workflowType,
      List<Class<?>> workflowImplementations,
      VersionFormat versionFormat,
      Function<String, Lane> lane,
      ConfigSection<?> configSection,
      String exampleConfig,
      List<StartOption> options,
      List<GateSpec> gates) {}

  private final Spec spec;

  protected RunbookDescriptor(Spec spec) {
    this.spec = spec;
  }

  @Override
  public final String name() {
    return spec.name();
  }

  @Override
  public final String summary() {
    return spec.summary();
  }

  @Override
  public final String description() {
    return spec.description();
  }

  @Override
  public final String workflowType() {
    return spec.workflowType();
  }

  @Override
  public final List<Class<?>> workflowImplementations() {
    return spec.workflowImplementations();
  }

  @Override
  public final VersionFormat versionFormat() {
    return spec.versionFormat();
  }

  @Override
  public final Lane lane(String environment) {
    return spec.lane().apply(environment);
  }

  @Override
  public final ConfigSection<?> configSection() {
    return spec.configSection();
  }

  @Override
  public final String exampleConfig() {
    return spec.exampleConfig();
  }

  @Override
  public final List<StartOption> options() {
    return spec.options();
  }

  @Override
  public final List<GateSpec> gates() {
    return spec.gates();
  }
}

package dev.crewchief.release;

import dev.crewchief.atmosphere.AtmosphereDeploymentDayImpl;
import dev.crewchief.atmosphere.AtmosphereHotfixImpl;
import dev.crewchief.atmosphere.AtmosphereReleaseImpl;
import dev.crewchief.randopony.PromoteToProductionImpl;
import dev.crewchief.randopony.StagingDeployImpl;

/**
 * Every release workflow implementation, in one list: the worker registers these, and the replay
 * tests replay recorded histories against them, so a new runbook cannot be left out of either.
 */
public final class ReleaseWorkflows {
  private ReleaseWorkflows() {}

  /**
   * How the worker runs release workflows. An exception of one of these types thrown outside a
   * release's own error handling (in a workflow's constructor, say) is a bug that fails the release
   * instead of retrying its workflow task forever, which would leave it stuck with nothing in its
   * status. Inside {@link Release#run} every such exception already fails the release with its
   * rollback. Non-determinism (an IllegalStateException) is deliberately not among them: a bad
   * deployment must not fail every open release; it waits for the fix.
   */
  @SuppressWarnings("unchecked")
  public static io.temporal.worker.WorkflowImplementationOptions options() {
    return io.temporal.worker.WorkflowImplementationOptions.newBuilder()
        .setFailWorkflowExceptionTypes(
            NullPointerException.class,
            ClassCastException.class,
            IndexOutOfBoundsException.class,
            ArithmeticException.class,
            java.util.NoSuchElementException.class,
            UnsupportedOperationException.class,
            IllegalArgumentException.class,
            java.time.DateTimeException.class)
        .build();
  }

  public static Class<?>[] implementations() {
    return new Class<?>[] {
      StagingDeployImpl.class,
      PromoteToProductionImpl.class,
      AtmosphereHotfixImpl.class,
      AtmosphereReleaseImpl.class,
      AtmosphereDeploymentDayImpl.class
    };
  }
}

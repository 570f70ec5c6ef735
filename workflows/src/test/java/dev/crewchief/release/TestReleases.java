package dev.crewchief.release;

import io.temporal.testing.TestWorkflowExtension;

/** The test environment for release workflows, registered as the worker registers them. */
public final class TestReleases {
  private TestReleases() {}

  /**
   * A time-skipping test environment (started by the test, after it registered its mocked
   * activities) with the given workflows, the lane hold every release takes, and the worker's
   * workflow options.
   */
  public static TestWorkflowExtension extension(Class<?>... workflows) {
    Class<?>[] all = new Class<?>[workflows.length + 1];
    all[0] = LaneHoldImpl.class;
    System.arraycopy(workflows, 0, all, 1, workflows.length);
    return TestWorkflowExtension.newBuilder()
        .registerWorkflowImplementationTypes(ReleaseWorkflow.implementationOptions(), all)
        .setDoNotStart(true)
        .build();
  }
}

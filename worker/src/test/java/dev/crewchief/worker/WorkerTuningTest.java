package dev.crewchief.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.config.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The worker's cache, thread, slot and poller settings: defaults and environment overrides. */
class WorkerTuningTest {
  @Test
  void defaultsWithoutOverrides() {
    assertEquals(WorkerTuning.DEFAULT, WorkerTuning.fromEnvironment(Map.of()));
  }

  @Test
  void eachSettingIsOverriddenByItsVariable() {
    WorkerTuning t =
        WorkerTuning.fromEnvironment(
            Map.of(
                WorkerTuning.CACHE_ENV, "40",
                WorkerTuning.THREADS_ENV, " 200 ",
                WorkerTuning.ACTIVITIES_ENV, "8",
                WorkerTuning.WORKFLOW_TASKS_ENV, "10",
                WorkerTuning.POLLERS_ENV, "4"));
    assertEquals(new WorkerTuning(40, 200, 8, 10, 4), t);
  }

  @Test
  void aValueThatIsNoNumberOrTooSmallIsAConfigurationError() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> WorkerTuning.fromEnvironment(Map.of(WorkerTuning.CACHE_ENV, "lots")));
    assertTrue(e.getMessage().contains(WorkerTuning.CACHE_ENV), e.getMessage());
    assertThrows(
        ConfigException.class,
        () -> WorkerTuning.fromEnvironment(Map.of(WorkerTuning.POLLERS_ENV, "1")));
  }
}

package dev.crewchief.release;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.runbook.Runbooks;
import io.temporal.testing.WorkflowReplayer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The determinism guard: histories recorded from real runs on the Temporal server (the end-to-end
 * tests write them to starter/target/histories) are replayed against the current workflow code. A
 * change that would break running releases fails here; put it behind {@code Workflow.getVersion}.
 *
 * <p>The recordings: a first staging deployment whose worker was killed twice (so it has a retried
 * step), promotions with a fresh database and with data moved over (gate passed by update after a
 * worker crash), a promotion cancelled mid-way and rolled back, and a rehearsal whose gate was
 * refused and then passed by Web UI signals; an Atmosphere hotfix recorded before the compose-file
 * step existed (it must replay through its {@code getVersion}), Atmosphere deployment days approved
 * (compose checkout stashed and updated) and rejected (rolled back), and a whole AtmosphereRelease
 * calendar with its beta child, recorded on the time-skipping test server with mocked activities (a
 * real one waits two weeks).
 */
class RecordedHistoriesReplayTest {
  private static final Path DIR = Path.of("src/test/resources/histories");
  private static final Class<?>[] ALL = Runbooks.all().workflowImplementations();

  @TestFactory
  Stream<DynamicTest> everyRecordedHistoryReplays() throws IOException {
    List<Path> files;
    try (Stream<Path> list = Files.list(DIR)) {
      files = list.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    assertTrue(files.size() >= 10, "recorded histories in " + DIR.toAbsolutePath() + ": " + files);
    return files.stream()
        .map(
            f ->
                DynamicTest.dynamicTest(
                    f.getFileName().toString(),
                    () ->
                        WorkflowReplayer.replayWorkflowExecution(
                            Files.readString(f), ALL[0], Arrays.copyOfRange(ALL, 1, ALL.length))));
  }
}

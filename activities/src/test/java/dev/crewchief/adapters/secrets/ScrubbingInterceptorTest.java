package dev.crewchief.adapters.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Message;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.ActivityCanceledException;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.RetryOptions;
import io.temporal.common.interceptors.WorkerInterceptor;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TimeoutFailure;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The interceptor on a real (in-memory) Temporal service: what an activity returns, throws and
 * heartbeats reaches history with its secrets masked, and the rest (types, retryability,
 * cancellation) behaves as without the interceptor.
 *
 * <p>The secret reaches the activity only as the reference {@code env:CREWCHIEF_TEST_SECRET},
 * resolved through {@link SecretResolver} inside the activity, as in the adapters. Time skipping is
 * off: the heartbeat timeout and the cancellation are real, short waits.
 */
class ScrubbingInterceptorTest {
  static final String QUEUE = "scrubbing-test";
  static final String REF = "env:CREWCHIEF_TEST_SECRET";
  static final String SECRET = "Tr0ub4dor-and-3-horses";
  static final String URL_PASSWORD = "pw-in-url-7731";
  static final String URL = "https://deploy:" + URL_PASSWORD + "@git.example.com/app.git";

  public record Inner(String note, List<String> tags) {}

  public record Output(
      String action, String stdout, List<String> lines, Map<String, String> env, Inner inner) {}

  public record Detail(String note, int code) {}

  @ActivityInterface
  public interface Steps {
    Output output(String reference);

    String fail(String reference, String kind);

    String heartbeatThenStall(String reference);

    String waitForCancel();

    String completeLater();
  }

  @WorkflowInterface
  public interface OutputWorkflow {
    @WorkflowMethod
    Output run(String reference);
  }

  @WorkflowInterface
  public interface StepWorkflow {
    @WorkflowMethod
    String run(String step, String reference);
  }

  public static class OutputWorkflowImpl implements OutputWorkflow {
    private final Steps steps =
        Workflow.newActivityStub(
            Steps.class,
            ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofSeconds(10)).build());

    @Override
    public Output run(String reference) {
      return steps.output(reference);
    }
  }

  public static class StepWorkflowImpl implements StepWorkflow {
    @Override
    public String run(String step, String reference) {
      switch (step) {
        case "heartbeat":
          try {
            return stub(ActivityOptions.newBuilder()
                    .setStartToCloseTimeout(Duration.ofSeconds(30))
                    .setHeartbeatTimeout(Duration.ofSeconds(1))
                    .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build()))
                .heartbeatThenStall(reference);
          } catch (ActivityFailure e) {
            TimeoutFailure t = (TimeoutFailure) e.getCause();
            return t.getTimeoutType() + ": " + t.getLastHeartbeatDetails().get(String.class);
          }
        case "cancel":
          Steps steps =
              stub(
                  ActivityOptions.newBuilder()
                      .setStartToCloseTimeout(Duration.ofSeconds(30))
                      .setHeartbeatTimeout(Duration.ofSeconds(2))
                      .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED));
          List<Promise<String>> running = new ArrayList<>(1);
          CancellationScope scope =
              Workflow.newCancellationScope(
                  () -> running.add(Async.function(steps::waitForCancel)));
          scope.run();
          Workflow.sleep(Duration.ofMillis(500));
          scope.cancel();
          try {
            return running.get(0).get();
          } catch (ActivityFailure e) {
            return "ended with " + e.getCause().getClass().getSimpleName();
          }
        case "later":
          return stub(ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofSeconds(30)))
              .completeLater();
        default:
          // Retried quickly up to three times, unless the failure says it is not retryable.
          return stub(ActivityOptions.newBuilder()
                  .setStartToCloseTimeout(Duration.ofSeconds(10))
                  .setRetryOptions(
                      RetryOptions.newBuilder()
                          .setInitialInterval(Duration.ofMillis(10))
                          .setBackoffCoefficient(1)
                          .setMaximumAttempts(3)
                          .build()))
              .fail(reference, step);
      }
    }

    private static Steps stub(ActivityOptions.Builder options) {
      return Workflow.newActivityStub(Steps.class, options.build());
    }
  }

  /** The activities, resolving the secret as the adapters do; counts attempts per test. */
  static final class StepsImpl implements Steps {
    final SecretResolver secrets;
    final AtomicInteger attempts = new AtomicInteger();
    final CountDownLatch release = new CountDownLatch(1);
    final CompletableFuture<Throwable> cancelSeen = new CompletableFuture<>();
    final CompletableFuture<byte[]> taskToken = new CompletableFuture<>();

    StepsImpl(SecretResolver secrets) {
      this.secrets = secrets;
    }

    @Override
    public Output output(String reference) {
      String s = secrets.resolve(reference, "the test");
      return new Output(
          "docker exec db pg_isready",
          "connected with " + s + " via " + URL + ", all good",
          List.of("line one", "PGPASSWORD=" + s, "line three"),
          Map.of("DB_URL", URL, "key " + s, "plain value"),
          new Inner("nested " + s, List.of("tag", s)));
    }

    @Override
    public String fail(String reference, String kind) {
      attempts.incrementAndGet();
      String s = secrets.resolve(reference, "the test");
      String message = "pg_dump failed with " + s + " against " + URL + ", see the log";
      switch (kind) {
        case "application" ->
            throw ApplicationFailure.newNonRetryableFailureWithCause(
                message,
                "DumpFailed",
                new IOException("cause says " + s),
                new Detail("detail " + s, 42));
        case "runtime" -> throw new IllegalStateException(message);
        case "checked" -> throw Activity.wrap(new IOException(message));
        case "error" -> throw new AssertionError(message);
        default -> throw new IllegalArgumentException(kind);
      }
    }

    @Override
    public String heartbeatThenStall(String reference) {
      String s = secrets.resolve(reference, "the test");
      Activity.getExecutionContext().heartbeat("healthcheck said: token " + s + " rejected");
      // No more heartbeats: the server times the attempt out; the test releases this thread.
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return "stalled";
    }

    @Override
    public String waitForCancel() {
      ActivityExecutionContext context = Activity.getExecutionContext();
      try {
        for (int i = 0; i < 300; i++) {
          context.heartbeat("waiting");
          Thread.sleep(100);
        }
        return "never cancelled";
      } catch (ActivityCanceledException e) {
        cancelSeen.complete(e);
        throw e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
    }

    @Override
    public String completeLater() {
      ActivityExecutionContext context = Activity.getExecutionContext();
      taskToken.complete(context.getTaskToken());
      context.doNotCompleteOnReturn();
      return "ignored, completed later";
    }
  }

  private TestWorkflowEnvironment env;
  private StepsImpl steps;

  private WorkflowClient start() {
    return start(true);
  }

  private WorkflowClient start(boolean scrubbing) {
    KnownSecrets known = new KnownSecrets();
    SecretResolver secrets = new SecretResolver(Map.of("CREWCHIEF_TEST_SECRET", SECRET), known);
    WorkerInterceptor[] chosen =
        scrubbing
            ? new WorkerInterceptor[] {new ScrubbingInterceptor(known)}
            : new WorkerInterceptor[0];
    env =
        TestWorkflowEnvironment.newInstance(
            TestEnvironmentOptions.newBuilder()
                .setUseTimeskipping(false)
                .setWorkerFactoryOptions(
                    WorkerFactoryOptions.newBuilder().setWorkerInterceptors(chosen).build())
                .build());
    Worker worker = env.newWorker(QUEUE);
    worker.registerWorkflowImplementationTypes(OutputWorkflowImpl.class, StepWorkflowImpl.class);
    steps = new StepsImpl(secrets);
    worker.registerActivitiesImplementations(steps);
    env.start();
    return env.getWorkflowClient();
  }

  @AfterEach
  void stop() {
    if (steps != null) {
      steps.release.countDown();
    }
    if (env != null) {
      env.close();
    }
  }

  @Test
  void aResultIsScrubbedThroughRecordsListsAndMaps() {
    WorkflowClient client = start();
    OutputWorkflow wf = client.newWorkflowStub(OutputWorkflow.class, options("result"));

    Output out = wf.run(REF);

    assertEquals("docker exec db pg_isready", out.action());
    assertEquals(
        "connected with *** via https://***@git.example.com/app.git, all good", out.stdout());
    assertEquals(List.of("line one", "PGPASSWORD=***", "line three"), out.lines());
    assertEquals(
        Map.of("DB_URL", "https://***@git.example.com/app.git", "key ***", "plain value"),
        out.env());
    assertEquals(new Inner("nested ***", List.of("tag", "***")), out.inner());
    assertNoSecretIn(client, "result");
  }

  @Test
  void withoutTheInterceptorTheSecretWouldBeInHistory() {
    // The same activity on a worker without the interceptor: proves that the history reading
    // below sees the payloads the other tests find clean.
    WorkflowClient client = start(false);
    client.newWorkflowStub(OutputWorkflow.class, options("unscrubbed")).run(REF);
    String history = historyText(client, "unscrubbed");
    assertTrue(history.contains(SECRET));
    assertTrue(history.contains(URL_PASSWORD));
  }

  @Test
  void aNonRetryableApplicationFailureKeepsTypeFlagDetailsAndCause() {
    WorkflowClient client = start();
    ApplicationFailure f = failureOf(client, "application");

    assertEquals("DumpFailed", f.getType());
    assertTrue(f.isNonRetryable());
    assertEquals(1, steps.attempts.get(), "a non-retryable failure is not retried");
    assertEquals(
        "pg_dump failed with *** against https://***@git.example.com/app.git, see the log",
        f.getOriginalMessage());
    assertEquals(new Detail("detail ***", 42), f.getDetails().get(0, Detail.class));
    ApplicationFailure cause = assertInstanceOf(ApplicationFailure.class, f.getCause());
    assertEquals("java.io.IOException", cause.getType());
    assertEquals("cause says ***", cause.getOriginalMessage());
    assertNoSecretIn(client, "application");

    // What the SDK put into history: frames only as the stack trace, the cause as a nested
    // failure with its own message and stack trace.
    Failure recorded = recordedFailure(client, "application");
    assertTrue(recorded.getStackTrace().contains("StepsImpl.fail("), recorded.getStackTrace());
    assertFalse(recorded.getStackTrace().contains("pg_dump"), recorded.getStackTrace());
    assertEquals("cause says ***", recorded.getCause().getMessage());
    assertTrue(recorded.getCause().getStackTrace().contains("StepsImpl.fail("));
  }

  @Test
  void aRuntimeExceptionBecomesAFailureOfItsClassNameAndIsStillRetried() {
    WorkflowClient client = start();
    ApplicationFailure f = failureOf(client, "runtime");

    assertEquals("java.lang.IllegalStateException", f.getType());
    assertFalse(f.isNonRetryable());
    assertEquals(3, steps.attempts.get(), "retried as without the interceptor");
    assertEquals(
        "pg_dump failed with *** against https://***@git.example.com/app.git, see the log",
        f.getOriginalMessage());
    assertNoSecretIn(client, "runtime");
  }

  @Test
  void checkedExceptionsAndErrorsAreScrubbedUnderTheirOwnClassNames() {
    WorkflowClient client = start();
    assertEquals("java.io.IOException", failureOf(client, "checked").getType());
    assertNoSecretIn(client, "checked");
    ApplicationFailure error = failureOf(client, "error");
    assertEquals("java.lang.AssertionError", error.getType());
    assertTrue(error.getOriginalMessage().startsWith("pg_dump failed with *** against"));
    assertNoSecretIn(client, "error");
  }

  @Test
  void heartbeatDetailsAreScrubbed() {
    WorkflowClient client = start();
    String result =
        client.newWorkflowStub(StepWorkflow.class, options("heartbeat")).run("heartbeat", REF);
    assertEquals("TIMEOUT_TYPE_HEARTBEAT: healthcheck said: token *** rejected", result);
    assertNoSecretIn(client, "heartbeat");
  }

  @Test
  void aCancelledActivityStillEndsCancelled() throws Exception {
    WorkflowClient client = start();
    String result =
        client.newWorkflowStub(StepWorkflow.class, options("cancel")).run("cancel", REF);
    assertEquals("ended with CanceledFailure", result);
    assertInstanceOf(ActivityCanceledException.class, steps.cancelSeen.get(5, TimeUnit.SECONDS));
    assertTrue(
        events(client, "cancel").stream()
            .anyMatch(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED),
        "an ActivityTaskCanceled event");
  }

  @Test
  void anActivityCompletedLaterIsLeftAlone() throws Exception {
    WorkflowClient client = start();
    StepWorkflow wf = client.newWorkflowStub(StepWorkflow.class, options("later"));
    WorkflowClient.start(wf::run, "later", REF);
    byte[] token = steps.taskToken.get(10, TimeUnit.SECONDS);
    client.newActivityCompletionClient().complete(token, "completed by the test");
    assertEquals("completed by the test", WorkflowStub.fromTyped(wf).getResult(String.class));
  }

  private static WorkflowOptions options(String id) {
    return WorkflowOptions.newBuilder().setTaskQueue(QUEUE).setWorkflowId(id).build();
  }

  /** The activity's failure as the workflow (and its caller) sees it. */
  private static ApplicationFailure failureOf(WorkflowClient client, String kind) {
    StepWorkflow wf = client.newWorkflowStub(StepWorkflow.class, options(kind));
    WorkflowFailedException e =
        assertThrows(WorkflowFailedException.class, () -> wf.run(kind, REF));
    ActivityFailure a = assertInstanceOf(ActivityFailure.class, e.getCause());
    return assertInstanceOf(ApplicationFailure.class, a.getCause());
  }

  private static Failure recordedFailure(WorkflowClient client, String id) {
    return events(client, id).stream()
        .filter(HistoryEvent::hasActivityTaskFailedEventAttributes)
        .findFirst()
        .orElseThrow()
        .getActivityTaskFailedEventAttributes()
        .getFailure();
  }

  private static List<HistoryEvent> events(WorkflowClient client, String id) {
    return client.fetchHistory(id).getHistory().getEventsList();
  }

  private static void assertNoSecretIn(WorkflowClient client, String id) {
    String history = historyText(client, id);
    assertTrue(history.contains("***"), "the history shows the masks");
    assertFalse(history.contains(SECRET), "the secret is in the history of " + id);
    assertFalse(history.contains(URL_PASSWORD), "the URL's password is in the history of " + id);
  }

  /** The JSON export plus every string field and every payload decoded, as a reader would see. */
  private static String historyText(WorkflowClient client, String id) {
    var history = client.fetchHistory(id);
    StringBuilder all = new StringBuilder(history.toJson(true)).append('\n');
    for (HistoryEvent e : history.getHistory().getEventsList()) {
      strings(e, all);
    }
    return all.toString();
  }

  private static void strings(Object value, StringBuilder out) {
    if (value instanceof Payload p) {
      out.append(p.getData().toStringUtf8()).append('\n');
    }
    if (value instanceof Message m) {
      for (Object field : m.getAllFields().values()) {
        strings(field, out);
      }
    } else if (value instanceof List<?> list) {
      for (Object o : list) {
        strings(o, out);
      }
    } else if (value instanceof Map<?, ?> map) {
      for (Object o : map.values()) {
        strings(o, out);
      }
    } else {
      out.append(value).append('\n');
    }
  }
}

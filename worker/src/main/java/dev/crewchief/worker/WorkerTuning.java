package dev.crewchief.worker;

import dev.crewchief.config.ConfigException;
import java.util.Map;

/**
 * How many workflows the worker keeps in memory and how many threads and task slots it uses. The
 * defaults fit a small host (two cores, a few hundred MB) running hundreds of releases that mostly
 * wait at gates; each can be overridden from the environment.
 *
 * @param workflowCacheSize how many workflow executions stay in memory between their tasks ({@code
 *     CREWCHIEF_WORKFLOW_CACHE_SIZE}). A cached execution answers its next task without replaying
 *     its history, but holds its state and its blocked workflow thread(s). A release parked at a
 *     gate for hours gains little from staying: its next task replays a short history in
 *     milliseconds. The cache therefore holds the releases that are busy, not every parked one.
 * @param maxWorkflowThreads the workflow thread pool's bound ({@code CREWCHIEF_WORKFLOW_THREADS}).
 *     Each cached release holds one thread, plus one per child workflow or notification under way,
 *     so this is kept a few times the cache size; when it runs out, the SDK evicts cached
 *     executions rather than failing tasks.
 * @param maxConcurrentActivities activity slots ({@code CREWCHIEF_ACTIVITY_SLOTS}): release steps
 *     wait on remote systems, a few dozen at once is plenty on two cores.
 * @param maxConcurrentWorkflowTasks workflow task slots ({@code CREWCHIEF_WORKFLOW_TASK_SLOTS}):
 *     workflow tasks are short CPU work; a few dozen in hand is enough to keep the cores busy while
 *     others are on the wire.
 * @param workflowPollers concurrent polls for workflow tasks ({@code CREWCHIEF_WORKFLOW_POLLERS}).
 *     After a restart every open release needs a workflow task at once (a replay); with the SDK's
 *     five polls they wait in the task queue while the worker idles half the time, sixteen drained
 *     a thousand releases about a sixth faster in the parked benchmark.
 */
public record WorkerTuning(
    int workflowCacheSize,
    int maxWorkflowThreads,
    int maxConcurrentActivities,
    int maxConcurrentWorkflowTasks,
    int workflowPollers) {

  public static final String CACHE_ENV = "CREWCHIEF_WORKFLOW_CACHE_SIZE";
  public static final String THREADS_ENV = "CREWCHIEF_WORKFLOW_THREADS";
  public static final String ACTIVITIES_ENV = "CREWCHIEF_ACTIVITY_SLOTS";
  public static final String WORKFLOW_TASKS_ENV = "CREWCHIEF_WORKFLOW_TASK_SLOTS";
  public static final String POLLERS_ENV = "CREWCHIEF_WORKFLOW_POLLERS";

  /** The defaults (see the README's performance section for the measurements behind them). */
  public static final WorkerTuning DEFAULT = new WorkerTuning(150, 600, 20, 32, 16);

  public WorkerTuning {
    if (workflowCacheSize < 1
        || maxWorkflowThreads < 2
        || maxConcurrentActivities < 1
        || maxConcurrentWorkflowTasks < 2
        || workflowPollers < 2) {
      throw new ConfigException(
          "worker tuning: cache size and slots must be positive, workflow threads, workflow"
              + " task slots and pollers at least 2");
    }
  }

  /** The defaults with the environment's overrides. */
  public static WorkerTuning fromEnvironment(Map<String, String> env) {
    return new WorkerTuning(
        number(env, CACHE_ENV, DEFAULT.workflowCacheSize),
        number(env, THREADS_ENV, DEFAULT.maxWorkflowThreads),
        number(env, ACTIVITIES_ENV, DEFAULT.maxConcurrentActivities),
        number(env, WORKFLOW_TASKS_ENV, DEFAULT.maxConcurrentWorkflowTasks),
        number(env, POLLERS_ENV, DEFAULT.workflowPollers));
  }

  private static int number(Map<String, String> env, String name, int fallback) {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(name + " must be a whole number, found '" + v + "'");
    }
  }
}

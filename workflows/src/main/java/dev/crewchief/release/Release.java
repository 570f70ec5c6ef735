package dev.crewchief.release;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.LaneHolder;
import dev.crewchief.activities.Notification;
import dev.crewchief.activities.NotifyActivities;
import dev.crewchief.activities.StepOutcome;
import dev.crewchief.activities.TemporalActivities;
import dev.crewchief.config.GateConfig;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.common.RetryOptions;
import io.temporal.common.SearchAttributeKey;
import io.temporal.common.SearchAttributeUpdate;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.ChildWorkflowFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.worker.NonDeterministicException;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.ChildWorkflowCancellationType;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * The shared machinery of a release, used from inside a workflow: steps with progress, gates,
 * compensations and the final outcome. One instance per workflow execution.
 *
 * <p>Everything here runs on the workflow thread and uses only {@code Workflow.*} for time and
 * waiting, so it is deterministic.
 */
public final class Release {
  static final GateConfig DEFAULT_GATE =
      new GateConfig(
          List.of(), Duration.ofHours(24), Duration.ofHours(4), GateConfig.OnTimeout.FAIL);

  /**
   * The {@code Workflow.getVersion} change id of the platform's behaviour from the "trustworthy
   * platform" work on: every release started since records it once, first thing, so that the
   * histories of older releases replay through the code paths they were recorded with.
   */
  static final String PLATFORM_CHANGE = "platform-trustworthy";

  /**
   * The {@code Workflow.getVersion} change id of the history economy: from it on, a step transition
   * writes the step and the status in one upsert, and only what changed (before it, each transition
   * wrote two, the status rewritten unchanged every time; the status was also written alone at the
   * start), and at its end a release lets go of its lane while its last notification goes out
   * instead of after it (one workflow task less). Releases started earlier replay writing what they
   * recorded.
   */
  static final String ECONOMY_CHANGE = "history-economy";

  private final Logger log = Workflow.getLogger(Release.class);
  private final ReleaseContext ctx;
  private final NotifyActivities notify;
  private final int platform;
  private final boolean economy;

  private final List<Undo> undos = new ArrayList<>();
  private final List<String> leftByHand = new ArrayList<>();
  private String settled;
  private Lane lane;
  private LaneHold laneHold;
  private Promise<Void> laneHoldEnded;
  private final List<Promise<Void>> notifications = new ArrayList<>();
  private final List<StepState> steps = new ArrayList<>();
  private final Gates gates;
  private final List<String> refusals = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private ReleaseStatus status = ReleaseStatus.RUNNING;
  private String currentStep = "starting";

  public Release(ReleaseContext ctx) {
    this.ctx = ctx;
    this.platform = Workflow.getVersion(PLATFORM_CHANGE, Workflow.DEFAULT_VERSION, 1);
    this.economy = Workflow.getVersion(ECONOMY_CHANGE, Workflow.DEFAULT_VERSION, 1) >= 1;
    this.gates = new Gates(this, ctx, platform >= 1);
    // Notifications must never fail a release: a few attempts, then the release goes on. A send
    // to mail and chat may take a minute on a slow relay; the adapter heartbeats meanwhile.
    this.notify =
        Workflow.newActivityStub(
            NotifyActivities.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(2))
                .setHeartbeatTimeout(Duration.ofSeconds(30))
                .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(3).build())
                .build());
  }

  public ReleaseContext context() {
    return ctx;
  }

  public boolean dryRun() {
    return ctx.dryRun();
  }

  /** Declares a gate up front so that decisions for it can be told apart from unknown names. */
  public void declareGate(String name, String description, List<String> defaultRoles) {
    gates.declare(name, description, defaultRoles);
  }

  /**
   * Declares a gate that offers {@code choices} (the first is proposed until {@link #propose}): an
   * approval takes the proposed one or, with a reason, another; {@link GateDecision#choice} null in
   * the decision {@link #gate} returns means the proposed one, see {@link #chosen}.
   */
  public void declareGate(
      String name, String description, List<String> defaultRoles, List<String> choices) {
    gates.declare(name, description, defaultRoles, choices);
  }

  /** What a gate with choices shows and proposes, set before it opens. */
  public void propose(String gate, String description, String proposed) {
    gates.propose(gate, description, proposed);
    refreshDetails();
  }

  /**
   * The option an approved gate with choices settled on (its proposal unless another was chosen).
   */
  public String chosen(String gate) {
    Gates.Gate g = gates.get(gate);
    return g.decision == null || g.decision.choice() == null ? g.proposed : g.decision.choice();
  }

  /** Runs one step, recording its start, end and outcome. */
  public <T> T step(String name, Supplier<T> body) {
    int index = steps.size();
    Instant start = now();
    steps.add(new StepState(name, StepStatus.RUNNING, start, null, null));
    setCurrentStep(name);
    try {
      T result = body.get();
      StepStatus done = ctx.dryRun() ? StepStatus.REHEARSED : StepStatus.DONE;
      steps.set(index, new StepState(name, done, start, now(), detailOf(result)));
      return result;
    } catch (RuntimeException e) {
      boolean cancelled = CancellationScope.current().isCancelRequested();
      steps.set(
          index,
          new StepState(
              name,
              cancelled ? StepStatus.CANCELLED : StepStatus.FAILED,
              start,
              now(),
              cancelled ? "interrupted by the release's cancellation" : describe(e)));
      throw e;
    }
  }

  /** Records a step the plan leaves out, with the reason, so the report shows the branch taken. */
  public void skip(String name, String why) {
    Instant at = now();
    steps.add(new StepState(name, StepStatus.SKIPPED, at, at, why));
  }

  /** Adds a line to the release's notes (shown by status and the report). */
  public void note(String text) {
    notes.add(text);
  }

  /**
   * Called by an undo action that chose to leave something undone (maintenance left on because the
   * old version does not answer, say): the rollback is then incomplete, and {@code what} is in the
   * notes as what is left by hand.
   */
  public void leftUndone(String what) {
    leftByHand.add(what);
  }

  /**
   * Registers how to undo the step about to run. Registered before the step, so a step that fails
   * half-way is undone too; undo actions must therefore be safe when the step did nothing.
   */
  public void onRollback(String name, Runnable undo) {
    undos.add(new Undo(name, undo));
  }

  /** An undo action as registered, and what its step is called. */
  private record Undo(String name, Runnable action) {}

  /**
   * Marks the point of no return: what the release did so far stays, whatever happens next. The
   * undo actions registered until now are dropped, and a later failure fails the release without
   * rolling back, with {@code why} in its notes (e.g. the new version already serves: ending
   * maintenance by hand beats putting the old version back).
   */
  public void settle(String why) {
    undos.clear();
    settled = why;
  }

  /**
   * A gate that asks leave to destroy something (drop the old index, terminate the old VM): true
   * when approved (or timed out with PROCEED); false when rejected or timed out otherwise, and the
   * release goes on without destroying it: a "no" there keeps what is kept, it does not undo the
   * release. The gate's outcome is recorded as at any gate.
   */
  public boolean permits(String name) {
    try {
      gate(name);
      return true;
    } catch (GateStopped e) {
      note("gate " + name + ": " + e.getMessage());
      return false;
    }
  }

  /**
   * Waits at a gate until an allowed person decides, reminding while it waits. Returns the decision
   * when approved (or on timeout with outcome PROCEED); throws {@link GateStopped} when rejected or
   * timed out otherwise.
   */
  public GateDecision gate(String name) {
    Gates.Gate g = gates.get(name);
    g.status = GateStatus.WAITING;
    g.openedAt = now();
    status = ReleaseStatus.WAITING_FOR_GATE;
    setCurrentStep("gate: " + name);
    int stepIndex = steps.size();
    steps.add(new StepState("gate: " + name, StepStatus.RUNNING, g.openedAt, null, null));
    List<String> people = gates.allowedPeople(g);
    tell(
        Notification.Kind.GATE_OPEN,
        people,
        ctx.releaseId() + " waits for " + String.join(" or ", people) + " at gate " + name,
        gates.instructions(g),
        g);
    Instant deadline = g.openedAt.plus(g.policy.timeout());
    while (g.decision == null) {
      Duration left = Duration.between(now(), deadline);
      if (left.isNegative() || left.isZero()) {
        break;
      }
      Duration wait = left.compareTo(g.policy.remindEvery()) < 0 ? left : g.policy.remindEvery();
      boolean decided = Workflow.await(wait, () -> g.decision != null);
      if (!decided && now().isBefore(deadline)) {
        tell(
            Notification.Kind.GATE_REMINDER,
            people,
            "Still waiting: " + ctx.releaseId() + " at gate " + name,
            gates.instructions(g)
                + "\n\nIt times out at "
                + deadline
                + " (on timeout: "
                + g.policy.onTimeout()
                + ").",
            g);
      }
    }
    status = ReleaseStatus.RUNNING;
    if (g.decision == null) {
      g.status = GateStatus.TIMED_OUT;
      g.decidedAt = now();
      String outcome =
          "no decision within " + g.policy.timeout() + "; on timeout: " + g.policy.onTimeout();
      tell(
          Notification.Kind.GATE_DECIDED,
          people,
          ctx.releaseId() + ": gate " + name + " timed out",
          outcome
              + switch (g.policy.onTimeout()) {
                case PROCEED -> ": the release goes on as if approved";
                case ROLLBACK -> ": the release rolls back what it did, then fails";
                case FAIL -> ": the release stops and leaves everything as it is";
              },
          g);
      boolean proceed = g.policy.onTimeout() == GateConfig.OnTimeout.PROCEED;
      steps.set(
          stepIndex,
          new StepState(
              "gate: " + name,
              proceed ? StepStatus.DONE : StepStatus.FAILED,
              g.openedAt,
              now(),
              outcome));
      if (proceed) {
        return new GateDecision(name, GateDecision.Decision.APPROVE, "(timeout)", outcome);
      }
      throw new GateStopped(
          "GateTimedOut",
          "gate '" + name + "' timed out: " + outcome,
          g.policy.onTimeout() == GateConfig.OnTimeout.ROLLBACK);
    }
    GateDecision d = g.decision;
    boolean approved = d.decision() == GateDecision.Decision.APPROVE;
    String detail =
        (approved ? "approved" : "rejected")
            + " by "
            + d.approver()
            + " via "
            + g.via
            + (d.signature() == null ? "" : " (signed)")
            + (!approved || g.choices.isEmpty()
                ? ""
                : d.choice() == null || d.choice().equals(g.proposed)
                    ? ", choosing the proposed " + g.proposed
                    : ", choosing " + d.choice() + " instead of the proposed " + g.proposed)
            + (d.comment() == null || d.comment().isBlank() ? "" : ": " + d.comment());
    steps.set(
        stepIndex,
        new StepState(
            "gate: " + name,
            approved ? StepStatus.DONE : StepStatus.FAILED,
            g.openedAt,
            g.decidedAt,
            detail));
    tell(
        Notification.Kind.GATE_DECIDED,
        people,
        ctx.releaseId() + ": gate " + name + " " + detail,
        detail,
        g);
    if (!approved) {
      throw new GateStopped("GateRejected", "gate '" + name + "' " + detail, true);
    }
    return d;
  }

  /**
   * Runs the body of a release: on success marks it succeeded; on failure or cancellation runs the
   * registered undo actions (in a detached scope, so a cancelled release still rolls back) and
   * fails the workflow with a message that names the step and the cause. The outcome says exactly
   * what the rollback did: ROLLED_BACK only when every undo succeeded, ROLLBACK_INCOMPLETE (with
   * what is left by hand in the notes) when one failed, FAILED when there was nothing to undo.
   *
   * <p>An unexpected exception of workflow code (a bug: a NullPointerException, say) is treated as
   * a failed step rather than left to retry the workflow task forever, which would leave the
   * release stuck with nothing in its status; only a non-determinism error is left to the SDK,
   * since failing every open release on a bad deployment would be worse than waiting for a fix.
   */
  public <T> T run(Lane lane, Object input, Supplier<T> body) {
    if (!economy) {
      // Since the history economy, the status is written with the first step instead.
      upsert(SearchAttributes.STATUS, status.name());
    }
    try {
      return outcome(
          () -> {
            if (platform >= 1) {
              SecretRefs.check(input);
            }
            holdLane(lane);
            return body.get();
          });
    } finally {
      if (economy) {
        endAlongside();
      } else {
        awaitNotifications();
        letGoOfLane();
      }
    }
  }

  private <T> T outcome(Supplier<T> body) {
    try {
      T result = body.get();
      status = ReleaseStatus.SUCCEEDED;
      setCurrentStep("done");
      tell(
          Notification.Kind.RELEASE_SUCCEEDED,
          everyone(),
          ctx.releaseId() + " succeeded",
          "Status: SUCCEEDED." + notesText(),
          null);
      return result;
    } catch (CanceledFailure e) {
      RollbackOutcome undone = rollback();
      status = undone == RollbackOutcome.INCOMPLETE ? undone.status : ReleaseStatus.CANCELLED;
      setCurrentStep("cancelled");
      throw e;
    } catch (GateStopped e) {
      if (e.rollback) {
        status = rollback().status;
      } else {
        status = ReleaseStatus.FAILED;
        note("no rollback: the gate's timeout outcome is FAIL, everything is left as it was");
      }
      return fail(e.type, e.getMessage(), e);
    } catch (NonDeterministicException e) {
      throw e;
    } catch (RuntimeException e) {
      if (CancellationScope.current().isCancelRequested()) {
        // An activity interrupted by the cancellation: roll back as for any cancellation.
        String interrupted = currentStep;
        RollbackOutcome undone = rollback();
        status = undone == RollbackOutcome.INCOMPLETE ? undone.status : ReleaseStatus.CANCELLED;
        setCurrentStep("cancelled");
        throw new CanceledFailure("release cancelled during step '" + interrupted + "'");
      }
      String failedStep = currentStep;
      boolean bug = !(e instanceof TemporalFailure || e instanceof IllegalArgumentException);
      if (bug) {
        // The stack trace goes to the worker's log; the release says what happened.
        log.error("release {}: unexpected error in step '{}'", ctx.releaseId(), failedStep, e);
        note(
            "an unexpected error in Crew Chief's workflow code ("
                + e.getClass().getSimpleName()
                + " in step '"
                + failedStep
                + "') failed the release; the worker's log has the stack trace. Please report it.");
      }
      status = rollback().status;
      return fail(
          bug ? "ReleaseBug" : typeOf(e),
          "step '" + failedStep + "' failed: " + (bug ? e.toString() : describe(e)),
          e);
    }
  }

  private <T> T fail(String type, String message, Throwable cause) {
    if (status == ReleaseStatus.ROLLBACK_INCOMPLETE) {
      message += "; ROLLBACK INCOMPLETE, finish by hand: " + String.join("; ", leftByHand);
    }
    setCurrentStep("failed");
    tell(
        Notification.Kind.RELEASE_FAILED,
        everyone(),
        ctx.releaseId() + " " + status,
        message + "\n\nStatus: " + status + "." + notesText(),
        null);
    // The notes and the final progress travel as the failure's details, so the report of a
    // failed release, read from history alone, still says what was left for a person (maintenance
    // left on, no rollback), which steps it skipped and how its rollback went.
    throw ApplicationFailure.newNonRetryableFailureWithCause(
        message, type, cause, List.copyOf(notes), progress());
  }

  /** What a rollback did, and the release status that says so. */
  private enum RollbackOutcome {
    /** Settled, or nothing was registered: nothing was undone. */
    NOTHING(ReleaseStatus.FAILED),
    DONE(ReleaseStatus.ROLLED_BACK),
    INCOMPLETE(ReleaseStatus.ROLLBACK_INCOMPLETE);

    final ReleaseStatus status;

    RollbackOutcome(ReleaseStatus status) {
      this.status = status;
    }
  }

  /**
   * Runs the undo actions, newest first, each one even when an earlier one failed (a failed undo
   * must not keep the others from putting things back), and says what came of it. Each failed undo
   * is noted with its reason: that is what a person has to finish by hand.
   */
  private RollbackOutcome rollback() {
    if (settled != null) {
      note("not rolled back: " + settled);
      return RollbackOutcome.NOTHING;
    }
    if (undos.isEmpty() && platform >= 1) {
      note("nothing to roll back: no step had changed anything yet");
      return RollbackOutcome.NOTHING;
    }
    status = ReleaseStatus.ROLLING_BACK;
    upsert(SearchAttributes.STATUS, status.name());
    List<Undo> todo = new ArrayList<>(undos);
    undos.clear();
    Workflow.newDetachedCancellationScope(
            () -> {
              for (int i = todo.size() - 1; i >= 0; i--) {
                undo(todo.get(i));
              }
            })
        .run();
    if (leftByHand.isEmpty()) {
      return RollbackOutcome.DONE;
    }
    note(
        "ROLLBACK INCOMPLETE: "
            + leftByHand.size()
            + " undo step"
            + (leftByHand.size() == 1 ? "" : "s")
            + " failed; finish by hand: "
            + String.join("; ", leftByHand));
    return RollbackOutcome.INCOMPLETE;
  }

  private void undo(Undo u) {
    int index = steps.size();
    Instant start = now();
    String stepName = "undo: " + u.name();
    steps.add(new StepState(stepName, StepStatus.RUNNING, start, null, null));
    setCurrentStep(stepName);
    try {
      u.action().run();
      steps.set(index, new StepState(stepName, StepStatus.COMPENSATED, start, now(), null));
    } catch (NonDeterministicException e) {
      throw e;
    } catch (RuntimeException e) {
      String why = describe(e);
      steps.set(index, new StepState(stepName, StepStatus.FAILED, start, now(), why));
      leftByHand.add(u.name() + " (" + why + ")");
      log.warn("release {}: undo '{}' failed: {}", ctx.releaseId(), u.name(), why);
    }
  }

  // ---- the lane ----

  /**
   * Takes the release's lane by starting its hold, a child workflow with the lane's id: the server
   * starts one execution of an id at a time, so of two releases started at the same instant by any
   * clients, one holds the lane and the other is refused here, naming the holder. A hold whose
   * release has just ended is about to be ended by its parent-close policy; that is waited out for
   * a few seconds. Releases started before lanes existed, and rehearsals (which change nothing),
   * hold none.
   */
  private void holdLane(Lane lane) {
    if (platform < 1 || lane == null) {
      return;
    }
    this.lane = lane;
    if (ctx.dryRun()) {
      skip("hold the lane " + lane.workflowId(), "a rehearsal changes nothing and holds no lane");
      return;
    }
    step(
        "hold the lane " + lane.workflowId(),
        () -> {
          ChildWorkflowOptions options =
              ChildWorkflowOptions.newBuilder()
                  .setWorkflowId(lane.workflowId())
                  .setParentClosePolicy(ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE)
                  // A cancelled release keeps its lane while it rolls back: the hold is not
                  // cancelled with it, and ends when the release lets go or closes.
                  .setCancellationType(ChildWorkflowCancellationType.ABANDON)
                  .setWorkflowIdReusePolicy(
                      WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
                  .setStaticSummary(lane.description() + ": held by " + ctx.releaseId())
                  .build();
          for (int attempt = 1; ; attempt++) {
            LaneHold hold = Workflow.newChildWorkflowStub(LaneHold.class, options);
            Promise<Void> ended =
                Async.procedure(
                    hold::hold,
                    new LaneHold.Request(lane.workflowId(), lane.description(), ctx.releaseId()));
            try {
              Workflow.getWorkflowExecution(hold).get();
              laneHold = hold;
              laneHoldEnded = ended;
              return new ActionResult(
                  "holds " + lane.workflowId() + " (" + lane.description() + ")", false, "");
            } catch (ChildWorkflowFailure e) {
              if (!(e.getCause() instanceof WorkflowExecutionAlreadyStarted)) {
                throw e;
              }
            }
            LaneHolder holder = temporal().describeLaneHolder(lane.workflowId());
            if (!holder.holdRunning()) {
              continue; // let go of meanwhile: take it now
            }
            if (holder.holderRunning() || attempt >= LANE_ATTEMPTS) {
              throw laneBusy(lane, holder);
            }
            Workflow.sleep(Duration.ofSeconds(2));
          }
        });
  }

  private static final int LANE_ATTEMPTS = 10;

  private ApplicationFailure laneBusy(Lane lane, LaneHolder holder) {
    String who = holder.holder() == null ? "another release" : holder.holder();
    return ApplicationFailure.newNonRetryableFailure(
        (holder.holderRunning()
                ? who + " is running and holds " + lane.workflowId()
                : who
                    + " has ended but its hold "
                    + lane.workflowId()
                    + " is still open (terminate it if it stays)")
            + ": "
            + lane.description()
            + ". Wait for it (`crewchief watch "
            + who
            + "`) or cancel it, then start again.",
        "LaneBusy");
  }

  /** Lets go of the lane at the end of the release, however it ends. */
  private void letGoOfLane() {
    if (laneHold == null) {
      return;
    }
    LaneHold hold = laneHold;
    laneHold = null;
    // The release ends once its hold has ended, so that the lane is free when the release is
    // seen closed (a start right after it must not be refused), and the hold ends on its own
    // rather than by the parent-close policy (which still ends it should this not get through).
    Workflow.newDetachedCancellationScope(
            () -> {
              try {
                Async.procedure(hold::letGo).get();
                laneHoldEnded.get();
              } catch (TemporalFailure e) {
                log.warn("could not let go of lane {}: {}", lane.workflowId(), describe(e));
              }
            })
        .run();
  }

  /**
   * The end of a release since the history economy: lets go of the lane (if held) while the
   * notifications still under way finish, then waits for both; the release ends once its hold has
   * ended, as {@link #letGoOfLane} explains.
   */
  private void endAlongside() {
    if (laneHold == null) {
      awaitNotifications();
      return;
    }
    LaneHold hold = laneHold;
    laneHold = null;
    Workflow.newDetachedCancellationScope(
            () -> {
              Promise<Void> letGo = Async.procedure(hold::letGo);
              awaitNotifications();
              try {
                letGo.get();
                laneHoldEnded.get();
              } catch (TemporalFailure e) {
                log.warn("could not let go of lane {}: {}", lane.workflowId(), describe(e));
              }
            })
        .run();
  }

  private TemporalActivities temporal() {
    return Workflow.newActivityStub(
        TemporalActivities.class,
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofSeconds(30))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(5).build())
            .build());
  }

  // ---- progress ----

  public ReleaseProgress progress() {
    List<GateView> views = gates.views();
    return new ReleaseProgress(
        Workflow.getInfo().getWorkflowId(),
        ctx.runbook(),
        ctx.environment(),
        ctx.version(),
        ctx.dryRun(),
        status,
        currentStep,
        List.copyOf(steps),
        views,
        List.copyOf(notes),
        lane == null ? null : lane.workflowId(),
        laneHold != null);
  }

  private void setCurrentStep(String name) {
    currentStep = name;
    upsert(SearchAttributes.STEP, name, SearchAttributes.STATUS, status.name());
    refreshDetails();
  }

  /**
   * The "current details" the Web UI shows for the release: the step, the status and, at a gate,
   * who may decide it, how (CLI or the UI's Send signal payload) and any refused decision, so that
   * someone looking at the UI sees why a signal did not move the release.
   */
  void refreshDetails() {
    StringBuilder md = new StringBuilder();
    md.append("**Step:** ").append(currentStep).append("\n\n**Status:** ").append(status);
    if (ctx.dryRun()) {
      md.append("\n\n*dry run: no side effects*");
    }
    for (Gates.Gate g : gates.waiting()) {
      // One paragraph per line: the UI renders Markdown, which would join single lines.
      md.append("\n\n**Gate ")
          .append(g.name)
          .append("**\n\n")
          .append(gates.instructions(g).replace("\n", "\n\n"));
    }
    if (!refusals.isEmpty()) {
      // Every refused request, for a gate or not (a payload of the wrong shape names none), so
      // that whoever sent one from the UI sees why the release did not move.
      md.append("\n\n**Refused decision requests** (the latest ")
          .append(Math.min(5, refusals.size()))
          .append(" of ")
          .append(refusals.size())
          .append(")");
      for (String r : refusals.subList(Math.max(0, refusals.size() - 5), refusals.size())) {
        md.append("\n\n- ").append(r);
      }
    }
    Workflow.setCurrentDetails(md.toString());
  }

  /**
   * Keeps a refused decision request in the history as it happens (a memo field the report reads),
   * not only in the release's state: a refused update or a malformed signal then shows in the
   * report of a release that is still running, or that ended some other way.
   */
  void recordRefusal(String line) {
    refusals.add(line);
    if (platform >= 1) {
      Workflow.upsertMemo(Map.of(REFUSALS_MEMO, List.copyOf(refusals)));
    }
  }

  /** The memo field that holds every refused decision request, oldest first. */
  public static final String REFUSALS_MEMO = "CrewChiefRefusals";

  Logger log() {
    return log;
  }

  String currentStep() {
    return currentStep;
  }

  private void upsert(SearchAttributeKey<String> key, String value) {
    upsert(key, value, null, null);
  }

  /**
   * Writes the registered ones of up to two search attributes. Since the history economy: in one
   * upsert, leaving out those that already hold the value (the workflow's own search attributes, as
   * started and as upserted since), and nothing when nothing changes: every upsert is an event in
   * the history. Releases started before it write each one in an upsert of its own, changed or not,
   * as their histories recorded.
   */
  private void upsert(
      SearchAttributeKey<String> key,
      String value,
      SearchAttributeKey<String> otherKey,
      String otherValue) {
    List<SearchAttributeUpdate<?>> updates = new ArrayList<>(2);
    for (int i = 0; i < 2; i++) {
      SearchAttributeKey<String> k = i == 0 ? key : otherKey;
      String v = i == 0 ? value : otherValue;
      if (k == null
          || ctx.searchAttributes() == null
          || !ctx.searchAttributes().contains(k.getName())) {
        continue;
      }
      if (!economy) {
        Workflow.upsertTypedSearchAttributes(k.valueSet(v));
      } else if (!v.equals(Workflow.getTypedSearchAttributes().get(k))) {
        updates.add(k.valueSet(v));
      }
    }
    if (!updates.isEmpty()) {
      Workflow.upsertTypedSearchAttributes(updates.toArray(new SearchAttributeUpdate<?>[0]));
    }
  }

  // ---- decisions ----

  /** A decision sent by the CLI (an update): taken, or refused with the reason. */
  public DecisionReply decide(GateDecision d) {
    return gates.decide(d, "update");
  }

  /** A gateDecision signal (the Web UI's Send signal), its JSON payload taken raw. */
  public void signal(com.fasterxml.jackson.databind.JsonNode payload) {
    gates.signal(payload);
  }

  /** A signal of any other name: refused with the reason. */
  public void signal(String name, io.temporal.common.converter.EncodedValues payload) {
    gates.signal(name, payload);
  }

  private String notesText() {
    return notes.isEmpty() ? "" : "\n\nNotes:\n- " + String.join("\n- ", notes);
  }

  private List<String> everyone() {
    List<String> people = new ArrayList<>();
    if (ctx.approvers() != null) {
      ctx.approvers()
          .values()
          .forEach(l -> l.stream().filter(p -> !people.contains(p)).forEach(people::add));
    }
    return people;
  }

  /**
   * Tells people, through the environment's channels (the worker's log always; e-mail and chat
   * where configured): {@code people} by their e-mail addresses, the channels' lists always.
   */
  private void tell(
      Notification.Kind kind, List<String> people, String subject, String body, Gates.Gate gate) {
    List<String> addresses = new ArrayList<>();
    for (String p : people) {
      Person person = ctx.person(p);
      if (person != null && person.email() != null && !addresses.contains(person.email())) {
        addresses.add(person.email());
      }
    }
    Notification n =
        new Notification(
            gate == null ? kind.name().toLowerCase() : "gate: " + gate.name,
            ctx.releaseId(),
            kind,
            people,
            subject,
            body,
            gate == null ? null : gates.view(gate),
            addresses,
            ctx.notifications());
    if (platform < 1) {
      // Releases started before notifications went out alongside the steps replay as recorded.
      try {
        notify.notify(n);
      } catch (ActivityFailure e) {
        log.warn("notification {} failed: {}", kind, describe(e));
      }
      return;
    }
    // A notification goes out alongside the release, not in its way: the next step starts at
    // once (a slow mail relay must not delay it), and the release's cancellation does not cancel
    // a notification under way (it is how people learn of it). The release waits for what is
    // still under way before it ends.
    Workflow.newDetachedCancellationScope(
            () -> notifications.add(Async.procedure(notify::notify, n)))
        .run();
  }

  /** Waits for the notifications still under way; a lost one is logged, never fatal. */
  private void awaitNotifications() {
    if (notifications.isEmpty()) {
      return;
    }
    List<Promise<Void>> pending = new ArrayList<>(notifications);
    notifications.clear();
    Workflow.newDetachedCancellationScope(
            () -> {
              for (Promise<Void> p : pending) {
                try {
                  p.get();
                } catch (ActivityFailure e) {
                  // A lost notification must not stop a release; the history keeps its attempts.
                  log.warn("a notification failed: {}", describe(e));
                }
              }
            })
        .run();
  }

  static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }

  private static String detailOf(Object result) {
    return result instanceof StepOutcome o ? o.action() : null;
  }

  static String typeOf(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ApplicationFailure af && af.getType() != null) {
        return af.getType();
      }
    }
    return e instanceof IllegalArgumentException ? "InvalidInput" : "ReleaseFailed";
  }

  /** The innermost useful message of a failure chain. */
  static String describe(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t instanceof ActivityFailure) {
      t = t.getCause();
    }
    if (t instanceof ApplicationFailure af) {
      return af.getOriginalMessage() + " [" + af.getType() + "]";
    }
    return t.getMessage();
  }

  /** A gate ended the release: rejected, or timed out with FAIL or ROLLBACK. */
  static final class GateStopped extends RuntimeException {
    final String type;
    final boolean rollback;

    GateStopped(String type, String message, boolean rollback) {
      super(message);
      this.type = type;
      this.rollback = rollback;
    }
  }
}

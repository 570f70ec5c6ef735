package dev.crewchief.release;

import java.util.List;

/**
 * The answer of the {@code progress} query: the live view of a release. {@code lane} is the id of
 * the lane's hold and {@code laneHeld} whether the release holds it now (false before it took the
 * lane, after it let go, and for releases that hold none).
 */
public record ReleaseProgress(
    String releaseId,
    String runbook,
    String environment,
    String version,
    boolean dryRun,
    ReleaseStatus status,
    String currentStep,
    List<StepState> steps,
    List<GateView> gates,
    List<String> notes,
    String lane,
    boolean laneHeld) {}

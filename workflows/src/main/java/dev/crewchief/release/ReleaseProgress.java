package dev.crewchief.release;

import java.util.List;

/** The answer of the {@code progress} query: the live view of a release. */
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
    List<String> notes) {}

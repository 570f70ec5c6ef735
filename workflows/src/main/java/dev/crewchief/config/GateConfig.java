package dev.crewchief.config;

import java.time.Duration;
import java.util.List;

/**
 * How one gate behaves in an environment: which roles may decide it, how long it waits, how often
 * it reminds, what happens when nobody decides in time, whether a decision must be signed with the
 * approver's SSH key, and how old a decision may be when it arrives (default one minute: one sent
 * while no worker ran, or held up on the way, is refused rather than applied after the approver
 * gave up).
 */
public record GateConfig(
    List<String> roles,
    Duration timeout,
    Duration remindEvery,
    OnTimeout onTimeout,
    Boolean requireSignature,
    Duration maxDecisionAge) {

  public static final Duration DEFAULT_MAX_DECISION_AGE = Duration.ofMinutes(1);

  /** A gate with the default decision rules (unsigned, one minute). */
  public GateConfig(
      List<String> roles, Duration timeout, Duration remindEvery, OnTimeout onTimeout) {
    this(roles, timeout, remindEvery, onTimeout, null, null);
  }

  public boolean signatureRequired() {
    return Boolean.TRUE.equals(requireSignature);
  }

  public Duration decisionAgeLimit() {
    return maxDecisionAge == null ? DEFAULT_MAX_DECISION_AGE : maxDecisionAge;
  }

  /** What a gate does when its timeout passes without a decision. */
  public enum OnTimeout {
    /** Fail the release and leave everything as it is for a person to look at. */
    FAIL,
    /** Undo what the release registered, then fail. */
    ROLLBACK,
    /** Carry on as if approved; the report records that nobody decided. */
    PROCEED
  }
}

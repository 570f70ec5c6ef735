package dev.crewchief.config;

import java.time.Duration;
import java.util.List;

/**
 * How one gate behaves in an environment: which roles may decide it, how long it waits, how often
 * it reminds, and what happens when nobody decides in time.
 */
public record GateConfig(
    List<String> roles, Duration timeout, Duration remindEvery, OnTimeout onTimeout) {

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

package dev.crewchief.bench;

import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseInput;

/**
 * What a benchmark release does.
 *
 * @param steps how many no-op steps it runs
 * @param gateEvery after every so many steps but the last, a gate ({@code 0}: none)
 * @param gatesTaken whether it waits at those gates; if not, each is declared and recorded as
 *     skipped, the way a plan leaves out a gate the environment does not configure
 * @param lane whether it holds its lane (a child workflow) like every real release
 * @param reindexDays when positive, a last step waits that many days for a reindex the way the
 *     house rules say (one activity that heartbeats its progress and is retried every hour, backoff
 *     coefficient 1, until the reindex is done)
 */
public record BenchPlan(
    ReleaseContext context,
    int steps,
    int gateEvery,
    boolean gatesTaken,
    boolean lane,
    int reindexDays)
    implements ReleaseInput {

  public BenchPlan(
      ReleaseContext context, int steps, int gateEvery, boolean gatesTaken, boolean lane) {
    this(context, steps, gateEvery, gatesTaken, lane, 0);
  }
}

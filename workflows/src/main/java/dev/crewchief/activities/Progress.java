package dev.crewchief.activities;

/**
 * What a long step reports in its heartbeats while it works: {@code done} of {@code total} (in
 * {@code unit}: files, bytes, layers; total 0 when unknown) and a line saying what it is doing.
 * {@code crewchief status}, {@code watch} and the Web UI's pending activities show it. Steps that
 * only say what they do heartbeat a plain string instead.
 */
public record Progress(long done, long total, String unit, String message) {

  /** "45% (450 of 1000 files) uploading x.py", or the message alone when the total is unknown. */
  public String describe() {
    if (total <= 0) {
      return done > 0 ? done + " " + unit + ": " + message : message;
    }
    long pct = Math.min(100, done * 100 / total);
    return pct + "% (" + done + " of " + total + " " + unit + ") " + message;
  }
}

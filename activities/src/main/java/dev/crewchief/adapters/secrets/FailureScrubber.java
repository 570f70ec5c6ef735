package dev.crewchief.adapters.secrets;

import io.temporal.client.ActivityCompletionException;
import io.temporal.common.converter.EncodedValues;
import io.temporal.common.converter.Values;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.serviceclient.CheckedExceptionWrapper;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds what an activity throws so that the failure the SDK records in history holds no secret.
 *
 * <p>What the SDK 1.38 records for a thrown exception ({@code DefaultFailureConverter}): the
 * message ({@code getOriginalMessage()} of a Temporal failure, {@code getMessage()} of anything
 * else), the stack trace as its frames only ({@code StackTraceElement.toString()} per line, no
 * message), the {@code ApplicationFailure}'s type, non-retryable flag, next retry delay, category
 * and details (serialised by the data converter), and the whole cause chain the same way, each
 * cause with its own message. A Temporal failure that was itself read from history (a {@code
 * getFailure()} present) is recorded as that original protobuf, messages and causes included. So
 * every message in the chain is scrubbed, every failure is a new one (no original protobuf), and
 * the frames are kept: they name classes, methods and lines only, and are what one debugs with.
 */
final class FailureScrubber {
  private static final Logger log = LoggerFactory.getLogger(FailureScrubber.class);
  // Beyond this depth the rest of a cause chain is dropped: no real chain is that long, and a
  // cycle that escaped the identity check must not recurse forever.
  private static final int MAX_CAUSES = 32;

  private final Scrubber scrubber;
  private final ValueScrubber values;

  FailureScrubber(Scrubber scrubber, ValueScrubber values) {
    this.scrubber = scrubber;
    this.values = values;
  }

  /**
   * What to throw instead of {@code e}: {@code e} itself for cancellation and completion control,
   * which the SDK handles by type and which carry no output; a rebuilt {@code ApplicationFailure}
   * for anything else.
   */
  RuntimeException scrub(RuntimeException e) {
    if (passesThrough(e)) {
      return e;
    }
    // Activity.wrap() wraps a checked exception; the SDK records the wrapped one.
    return rebuild(CheckedExceptionWrapper.unwrap(e));
  }

  /**
   * Cancellation ({@code CanceledFailure}) and completion control (cancelled, reset, paused...).
   */
  static boolean passesThrough(Throwable e) {
    return e instanceof ActivityCompletionException || e instanceof CanceledFailure;
  }

  /**
   * An {@code ApplicationFailure} that the SDK records as it would have recorded {@code e}, less
   * the secrets: same type (for anything but an {@code ApplicationFailure}, the class name, which
   * is what the SDK uses and what {@code RetryOptions.doNotRetry} matches), same retryability.
   */
  ApplicationFailure rebuild(Throwable e) {
    return rebuild(e, Collections.newSetFromMap(new IdentityHashMap<>()), 0);
  }

  private ApplicationFailure rebuild(Throwable e, Set<Throwable> seen, int depth) {
    seen.add(e);
    Throwable cause = e.getCause();
    ApplicationFailure scrubbedCause =
        cause == null || seen.contains(cause) || depth >= MAX_CAUSES
            ? null
            : rebuild(CheckedExceptionWrapper.unwrap(cause), seen, depth + 1);
    ApplicationFailure.Builder b;
    if (e instanceof ApplicationFailure af) {
      // Copies type, non-retryable flag, next retry delay, category and details.
      b = ApplicationFailure.newBuilder(af).setDetails(details(af));
    } else {
      b = ApplicationFailure.newBuilder().setType(e.getClass().getName()).setNonRetryable(false);
    }
    ApplicationFailure f = b.setMessage(scrubber.scrub(message(e))).setCause(scrubbedCause).build();
    f.setStackTrace(e.getStackTrace());
    return f;
  }

  private static String message(Throwable e) {
    if (e instanceof TemporalFailure tf) {
      return tf.getOriginalMessage();
    }
    return e.getMessage() == null ? "" : e.getMessage();
  }

  /**
   * The details with their strings scrubbed. A failure made in the activity holds them as objects
   * ({@code get} returns each as it was given); one read from history holds payloads and {@code
   * get(i, Object.class)} decodes them into maps and lists, which serialise to the same JSON. The
   * original details are kept when nothing in them changed, and when they cannot be read at all:
   * then they are not something an activity here put a string into.
   */
  private Values details(ApplicationFailure af) {
    Values d = af.getDetails();
    Object[] read;
    try {
      read = new Object[d.getSize()];
      for (int i = 0; i < read.length; i++) {
        read[i] = d.get(i, Object.class);
      }
    } catch (RuntimeException unreadable) {
      // Only the exception's class is logged: a decoder's message may quote the payload.
      log.debug(
          "details of a {} failure cannot be read to scrub them, kept ({})",
          af.getType(),
          unreadable.getClass().getName());
      return d;
    }
    Object[] out = new Object[read.length];
    boolean changed = false;
    for (int i = 0; i < read.length; i++) {
      try {
        out[i] = values.scrub(read[i]);
      } catch (ApplicationFailure notScrubbable) {
        // A detail holds a secret and cannot be rebuilt without it: the details are dropped, the
        // failure's message and type still say what went wrong.
        log.warn(
            "details of a {} failure hold a secret and cannot be rebuilt masked: dropped",
            af.getType());
        return new EncodedValues();
      }
      changed |= out[i] != read[i];
    }
    return changed ? new EncodedValues(out) : d;
  }
}

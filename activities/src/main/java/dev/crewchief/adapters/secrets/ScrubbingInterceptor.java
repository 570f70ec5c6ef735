package dev.crewchief.adapters.secrets;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;

/**
 * A worker interceptor that masks secrets in everything an activity hands to the SDK for history:
 * its result, what it throws, and its heartbeat details. Installed once on the worker factory, it
 * covers every adapter, including those written after it, which would otherwise each have to
 * remember to scrub every string they return.
 *
 * <p>Cancellation and completion control ({@code ActivityCanceledException} and the other {@code
 * ActivityCompletionException}s, {@code CanceledFailure}) pass through untouched, as does the
 * result of an activity that called {@code doNotCompleteOnReturn()} (the SDK does not record it).
 * Errors of the JVM itself ({@code VirtualMachineError}) pass through too: nothing should be
 * allocated on their way out.
 */
public final class ScrubbingInterceptor extends WorkerInterceptorBase {
  private final ValueScrubber values;
  private final FailureScrubber failures;

  /** Masks what {@code scrubber} masks. */
  public ScrubbingInterceptor(Scrubber scrubber) {
    this.values = new ValueScrubber(scrubber);
    this.failures = new FailureScrubber(scrubber, values);
  }

  /** Masks the secrets in {@code known} and the credential patterns of {@link Scrubber}. */
  public ScrubbingInterceptor(KnownSecrets known) {
    this(new Scrubber(known));
  }

  @Override
  public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
    return new Inbound(next);
  }

  private final class Inbound extends ActivityInboundCallsInterceptorBase {
    private ActivityExecutionContext context;

    Inbound(ActivityInboundCallsInterceptor next) {
      super(next);
    }

    @Override
    public void init(ActivityExecutionContext context) {
      this.context = context;
      // The SDK makes the context given here the one Activity.getExecutionContext() returns.
      super.init(new ScrubbingExecutionContext(context, values));
    }

    @Override
    public ActivityOutput execute(ActivityInput input) {
      try {
        ActivityOutput output = super.execute(input);
        if (context.isDoNotCompleteOnReturn()) {
          return output;
        }
        Object result = values.scrub(output.getResult());
        return result == output.getResult() ? output : new ActivityOutput(result);
      } catch (RuntimeException e) {
        throw failures.scrub(e);
      } catch (VirtualMachineError e) {
        throw e;
      } catch (Error e) {
        throw failures.rebuild(e);
      }
    }
  }
}

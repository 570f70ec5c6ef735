package dev.crewchief.adapters.docker;

import com.github.dockerjava.api.exception.BadRequestException;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.crewchief.activities.EngineRef;
import dev.crewchief.activities.ServiceRef;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Supplier;

/**
 * Turns docker-java's exceptions into {@link ApplicationFailure}s with stable types. What a retry
 * can fix (the engine's socket refusing or timing out, a 5xx from the engine) is retryable; what it
 * cannot (a request the engine rejects, something missing) is not, and says what to change.
 */
final class DockerFailures {
  private DockerFailures() {}

  /**
   * Runs {@code call} against the engine, translating what escapes it. {@code ApplicationFailure}s
   * thrown inside pass through; a {@link NotFoundException} that the caller did not handle means
   * that something the step relies on vanished, which is reported as {@code ServiceNotFound}.
   */
  static <T> T guard(ServiceRef service, EngineRef engine, Supplier<T> call) {
    try {
      return call.get();
    } catch (ApplicationFailure f) {
      throw f;
    } catch (NotFoundException e) {
      String what = service != null ? "service " + service.describe() : "engine " + engine.name();
      throw ApplicationFailure.newNonRetryableFailure(
          "not found on "
              + what
              + ": "
              + message(e)
              + " (a container of the service was removed while the step ran?)",
          "ServiceNotFound");
    } catch (BadRequestException | ConflictException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "engine " + engine.name() + " (" + engine.host() + ") refused the request: " + message(e),
          "DockerRequestRejected");
    } catch (DockerException e) {
      // 5xx and the like: the engine is there but failed; it may well succeed on a retry.
      throw ApplicationFailure.newFailure(
          "engine " + engine.name() + " (" + engine.host() + ") failed: " + message(e),
          "DockerEngineError");
    } catch (RuntimeException e) {
      if (hasCause(e, IOException.class) || e instanceof UncheckedIOException) {
        throw unreachable(engine, e);
      }
      throw e;
    }
  }

  static ApplicationFailure unreachable(EngineRef engine, Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return ApplicationFailure.newFailure(
        "cannot reach Docker engine "
            + engine.name()
            + " at "
            + engine.host()
            + ": "
            + root.getClass().getSimpleName()
            + " "
            + root.getMessage(),
        "DockerUnreachable");
  }

  static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  /** A request that names something wrong: not retried, the message says what to change. */
  static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }

  /** The engine's own message: docker-java prefixes it with the status and wraps it in JSON. */
  static String message(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
    int msg = m.indexOf("\"message\":\"");
    if (msg >= 0) {
      int end = m.indexOf('"', msg + 11);
      while (end > 0 && m.charAt(end - 1) == '\\') {
        end = m.indexOf('"', end + 1);
      }
      if (end > 0) {
        return m.substring(msg + 11, end).replace("\\\"", "\"");
      }
    }
    return m;
  }
}

package dev.crewchief.adapters.io;

import io.temporal.activity.Activity;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every adapter that runs a process or a remote command needs: heartbeats while it waits, and
 * the output streams drained on threads of their own so that waiting and heartbeating go on.
 */
public final class ActivityIo {
  private static final Logger log = LoggerFactory.getLogger(ActivityIo.class);

  private ActivityIo() {}

  /** Heartbeats with these details; outside an activity (tests, tools) there is nothing to do. */
  public static void heartbeat(Object details) {
    try {
      Activity.getExecutionContext().heartbeat(details);
    } catch (IllegalStateException notInActivity) {
      // Not called from an activity.
    }
  }

  /**
   * Runs {@code body} on this thread while a daemon thread heartbeats {@code details} every few
   * seconds, for a call that blocks without progress of its own to report (committing a large
   * container, stopping one that takes its grace period): the stub's heartbeat timeout then tells a
   * lost worker from a slow call. A heartbeat that fails (the activity was cancelled or timed out)
   * ends the heartbeats; the call itself is bounded by its own timeout.
   */
  public static <T> T whileHeartbeating(String details, java.util.function.Supplier<T> body) {
    io.temporal.activity.ActivityExecutionContext ctx;
    try {
      ctx = Activity.getExecutionContext();
    } catch (IllegalStateException notInActivity) {
      return body.get();
    }
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
    Thread beat =
        new Thread(
            () -> {
              try {
                while (!done.await(HEARTBEAT_EVERY.toMillis(), TimeUnit.MILLISECONDS)) {
                  ctx.heartbeat(details);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } catch (RuntimeException e) {
                log.debug("heartbeats for '{}' ended: {}", details, e.toString());
              }
            },
            "heartbeat");
    beat.setDaemon(true);
    beat.start();
    try {
      return body.get();
    } finally {
      done.countDown();
    }
  }

  private static final java.time.Duration HEARTBEAT_EVERY = java.time.Duration.ofSeconds(5);

  /** Copies the stream into {@code out} on a daemon thread until it ends; join the thread. */
  public static Thread drain(InputStream in, ByteArrayOutputStream out, String name) {
    Thread t =
        new Thread(
            () -> {
              try {
                in.transferTo(out);
              } catch (IOException e) {
                log.debug("stream {} closed: {}", name, e.getMessage());
              }
            },
            name);
    t.setDaemon(true);
    t.start();
    return t;
  }
}

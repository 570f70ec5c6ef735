package dev.crewchief.adapters.io;

import io.temporal.activity.Activity;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
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

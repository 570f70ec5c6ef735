package dev.crewchief.adapters.notify;

import dev.crewchief.activities.Notification;
import dev.crewchief.activities.NotifyActivities;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notifications written to the worker's log under the logger {@code crewchief.notify}, where a log
 * shipper or a person tailing the worker sees them. It is the notifier every environment has, and
 * the log channel of {@link ChannelNotifyActivities}, which adds e-mail and chat.
 */
public final class LogNotifyActivities implements NotifyActivities {
  private static final Logger log = LoggerFactory.getLogger("crewchief.notify");

  @Override
  public void notify(Notification n) {
    log.info(
        "[{}] {} to {}: {}{}",
        n.releaseId(),
        n.kind(),
        n.people() == null || n.people().isEmpty() ? "everyone" : String.join(", ", n.people()),
        n.subject(),
        n.body() == null || n.body().isBlank() ? "" : " | " + n.body());
  }
}

package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** Telling people: gate open, reminders, decisions, the end of a release. */
@ActivityInterface
public interface NotifyActivities {
  @ActivityMethod(name = "Notify.notify")
  void notify(Notification notification);
}

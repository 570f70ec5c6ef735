package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** Telling people: gate open, reminders, decisions, the end of a release. */
@ActivityInterface(namePrefix = "Notify.")
public interface NotifyActivities {
  @ActivityMethod(name = "notify")
  void notify(Notification notification);
}

package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** A host reached over SSH (sshj), with its host key verified. */
@ActivityInterface
public interface RemoteHostActivities {
  /** Which paths exist. */
  @ActivityMethod(name = "RemoteHost.inspect")
  PathFacts inspect(InspectRequest request);

  /** Upload what changed of a local directory. */
  @ActivityMethod(name = "RemoteHost.syncDirectory")
  SyncResult syncDirectory(SyncRequest request);

  /** Run a command; a non-zero exit fails with type {@code RemoteCommandFailed}. */
  @ActivityMethod(name = "RemoteHost.runCommand")
  ActionResult runCommand(CommandRequest request);

  /** Archive then delete files. */
  @ActivityMethod(name = "RemoteHost.archiveAndDelete")
  ActionResult archiveAndDelete(ArchiveRequest request);

  /** Start a background job (once per job id) and follow it to its end, heartbeating progress. */
  @ActivityMethod(name = "RemoteHost.runJob")
  JobResult runJob(JobRequest request);
}

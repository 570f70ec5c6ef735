package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.time.Duration;
import java.util.List;

/**
 * supervisord on a host, through {@code supervisorctl} over SSH. Failure types: {@code ProgramDown}
 * (a program stayed down after one restart; the message has its log tail; not retryable), {@code
 * RemoteToolMissing}, {@code SshUnreachable} and the other SSH failures of {@link
 * RemoteHostActivities}.
 */
@ActivityInterface
public interface SupervisorActivities {

  /**
   * Check the programs: {@code supervisorctl} is the command as the host runs it ({@code
   * supervisorctl -c /etc/supervisor/supervisord.conf}, or with sudo); {@code programs} the
   * programs that must be RUNNING (empty: every program {@code status} lists). A program not
   * RUNNING is restarted once; after {@code settle} it is checked again, and if it is still not
   * RUNNING the step fails with the last {@code tailBytes} of its log ({@code supervisorctl tail}).
   */
  record ProgramsRequest(
      String step,
      HostRef host,
      String supervisorctl,
      List<String> programs,
      Duration settle,
      int tailBytes,
      boolean dryRun) {}

  /**
   * One line of {@code supervisorctl status}: name, state (RUNNING, STOPPED, FATAL...), the rest.
   */
  record ProgramState(String name, String state, String description) {}

  record ProgramsResult(
      List<ProgramState> before,
      List<String> restarted,
      List<ProgramState> after,
      boolean rehearsed) {}

  @ActivityMethod(name = "Supervisor.checkPrograms")
  ProgramsResult checkPrograms(ProgramsRequest request);
}

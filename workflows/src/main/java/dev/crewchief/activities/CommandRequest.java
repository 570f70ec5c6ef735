package dev.crewchief.activities;

import java.util.Map;

/**
 * A shell command to run on a host. {@code command} must be safe to run twice: the commands built
 * by the workflows check state first (is it running, does it exist) so that a retry is harmless.
 *
 * <p>{@code tools} maps the host tools the command runs (as the command names them) to what to
 * change when one is not found: a command that exits 127 (command not found) fails with type {@code
 * RemoteToolMissing}, naming the tool and, when it is listed here, that setting. Null in histories
 * recorded before it existed.
 */
public record CommandRequest(
    String step, HostRef host, String command, boolean dryRun, Map<String, String> tools) {

  public CommandRequest(String step, HostRef host, String command, boolean dryRun) {
    this(step, host, command, dryRun, Map.of());
  }
}

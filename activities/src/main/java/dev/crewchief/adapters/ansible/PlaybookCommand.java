package dev.crewchief.adapters.ansible;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The {@code ansible-playbook} command of a run: its arguments, the environment that pins the
 * settings this adapter guarantees, and the line a person would type to run it by hand.
 *
 * <p>The settings are given through the environment because Ansible lets environment variables
 * override the project's {@code ansible.cfg} (which the deployment checkout in {@code workDir} may
 * have, with {@code host_key_checking = False} in it, as many do):
 *
 * <ul>
 *   <li>host keys verified: {@code ANSIBLE_HOST_KEY_CHECKING=True}, and {@code ssh_args} with
 *       {@code UserKnownHostsFile} the configured file (and no global one), {@code
 *       StrictHostKeyChecking=yes} (a host not in the file is refused, never added). ssh takes the
 *       first value given for an option, and Ansible puts {@code ssh_args} before everything else
 *       it adds, so a {@code StrictHostKeyChecking=no} from {@code ssh_common_args} or an inventory
 *       does not undo it. (An inventory variable {@code ansible_ssh_args} would replace {@code
 *       ssh_args} as a whole: a deployment's inventory must not set it.) {@code ssh_args} keeps
 *       Ansible's own defaults ({@code -C}, {@code ControlMaster=auto}, {@code ControlPersist}),
 *       with the control sockets in the run's private directory;
 *   <li>output this adapter can read: the {@code default} stdout callback with JSON results, no
 *       colours, unbuffered, a UTF-8 locale (ansible-core refuses to start without one);
 *   <li>nothing left behind on the worker: no {@code .retry} files in the checkout, and {@code
 *       ANSIBLE_HOME} and {@code ANSIBLE_LOCAL_TEMP} in the run's private directory (so roles and
 *       collections come from the project's {@code ansible.cfg} or the system-wide paths, not the
 *       worker user's {@code ~/.ansible}).
 * </ul>
 */
final class PlaybookCommand {
  private static final ObjectMapper json = new ObjectMapper();
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./:=@%+,-]+");

  final List<String> argv;
  final Map<String, String> env;
  final Path workDir;

  private PlaybookCommand(List<String> argv, Map<String, String> env, Path workDir) {
    this.argv = List.copyOf(argv);
    this.env = env;
    this.workDir = workDir;
  }

  /**
   * @param program the resolved ansible-playbook
   * @param tmp the run's private directory (key, Ansible's home and temp, control sockets)
   * @param keyFile the private key's temp file, or null to leave the key to the worker's SSH setup
   */
  static PlaybookCommand of(
      String program,
      Path workDir,
      String playbook,
      String inventory,
      String limit,
      Map<String, String> extraVars,
      String remoteUser,
      Path keyFile,
      Path knownHosts,
      Path tmp) {
    List<String> argv = new ArrayList<>();
    argv.add(program);
    argv.add("-i");
    argv.add(inventory);
    if (limit != null && !limit.isBlank()) {
      argv.add("--limit");
      argv.add(limit);
    }
    if (extraVars != null && !extraVars.isEmpty()) {
      argv.add("-e");
      argv.add(extraVarsJson(extraVars));
    }
    if (remoteUser != null && !remoteUser.isBlank()) {
      argv.add("-u");
      argv.add(remoteUser);
    }
    if (keyFile != null) {
      argv.add("--private-key");
      argv.add(keyFile.toString());
    }
    argv.add(playbook);

    String sshArgs =
        "-C -o ControlMaster=auto -o ControlPersist=60s"
            + " -o UserKnownHostsFile="
            + quote(knownHosts.toString())
            + " -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes"
            // Only the configured key: not every key of the worker's agent or ~/.ssh in turn.
            + (keyFile != null ? " -o IdentitiesOnly=yes" : "");
    Map<String, String> env = new LinkedHashMap<>();
    env.put("LC_ALL", "C.UTF-8");
    env.put("PYTHONUNBUFFERED", "1");
    env.put("ANSIBLE_HOST_KEY_CHECKING", "True");
    env.put("ANSIBLE_SSH_ARGS", sshArgs);
    env.put("ANSIBLE_SSH_CONTROL_PATH_DIR", tmp.resolve("cp").toString());
    env.put("ANSIBLE_STDOUT_CALLBACK", "default");
    env.put("ANSIBLE_CALLBACK_RESULT_FORMAT", "json");
    env.put("ANSIBLE_NOCOLOR", "1");
    env.put("ANSIBLE_FORCE_COLOR", "0");
    env.put("ANSIBLE_RETRY_FILES_ENABLED", "False");
    env.put("ANSIBLE_HOME", tmp.resolve("home").toString());
    env.put("ANSIBLE_LOCAL_TEMP", tmp.resolve("local").toString());
    return new PlaybookCommand(argv, env, workDir);
  }

  /**
   * The extra variables as one JSON object, so that every value arrives as the string it is
   * (Ansible's {@code key=value} form would split at spaces and read "yes" or "1" as other types),
   * sorted, so that a rehearsal shows the very command the run uses.
   */
  static String extraVarsJson(Map<String, String> vars) {
    try {
      return json.writeValueAsString(new TreeMap<>(vars));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The command as a shell line: {@code cd DIR && VAR=value ... ansible-playbook ...}. */
  String display() {
    StringBuilder b = new StringBuilder("cd ").append(quote(workDir.toString())).append(" &&");
    for (Map.Entry<String, String> e : env.entrySet()) {
      b.append(' ').append(e.getKey()).append('=').append(quote(e.getValue()));
    }
    for (String a : argv) {
      b.append(' ').append(quote(a));
    }
    return b.toString();
  }

  /** POSIX shell (and Python shlex) quoting: single quotes unless the word needs none. */
  static String quote(String s) {
    if (!s.isEmpty() && PLAIN.matcher(s).matches()) {
      return s;
    }
    return "'" + s.replace("'", "'\\''") + "'";
  }
}

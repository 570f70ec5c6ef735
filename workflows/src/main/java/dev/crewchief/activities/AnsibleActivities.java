package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.util.List;
import java.util.Map;

/**
 * Ansible, run by the worker ({@code ansible-playbook} from ansible-core) against hosts over SSH,
 * host keys verified against {@code knownHosts} (never {@code host_key_checking=False}), and its
 * inventory files. Failure types: {@code PlaybookFailed} (failed or unreachable hosts; the message
 * has the failed tasks and the recap; not retryable: a playbook is re-run on purpose), {@code
 * AnsibleMissing}, {@code InventoryInvalid}, {@code SecretUnresolved}, {@code InvalidInput}.
 */
@ActivityInterface
public interface AnsibleActivities {

  /**
   * {@code ansiblePlaybook}: the program (a path or a name on the worker's PATH); {@code workDir}
   * the checkout of the deployment scripts the playbook and inventory paths are relative to; {@code
   * privateKeyRef} a secret reference to the SSH key (written to a private temp file for the run
   * and removed after), {@code knownHosts} the known_hosts file. Heartbeats the task being run.
   */
  record PlaybookRequest(
      String step,
      String ansiblePlaybook,
      String workDir,
      String playbook,
      String inventory,
      String limit,
      Map<String, String> extraVars,
      String remoteUser,
      String privateKeyRef,
      String knownHosts,
      boolean dryRun) {}

  /** The recap per host, and the tail of the output. */
  record PlaybookResult(
      List<HostRecap> recap, String command, String outputTail, boolean rehearsed) {}

  record HostRecap(String host, int ok, int changed, int unreachable, int failed, int skipped) {}

  /**
   * Point inventory host {@code host} of the INI inventory {@code file} at {@code address} (its
   * {@code ansible_host}), keeping the file's other lines; idempotent. The result names the address
   * it had, so the change can be reverted.
   */
  record InventoryRequest(String step, String file, String host, String address, boolean dryRun) {}

  record InventoryChange(
      String file,
      String host,
      String previous,
      String address,
      boolean changed,
      boolean rehearsed) {}

  @ActivityMethod(name = "Ansible.runPlaybook")
  PlaybookResult runPlaybook(PlaybookRequest request);

  @ActivityMethod(name = "Ansible.pointInventory")
  InventoryChange pointInventory(InventoryRequest request);
}

package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crewchief.runbook.Runbooks;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.testing.WorkflowReplayer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reading release histories from the server the way an auditor would: the JSON export, every
 * payload decoded, the commands the release asked the host to run. Also replays them against the
 * current workflow code and keeps a copy under target/histories for the replay tests.
 */
final class Histories implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final WorkflowServiceStubs stubs;
  final WorkflowClient client;

  Histories(String address) {
    stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget(address).build());
    client = WorkflowClient.newInstance(stubs);
  }

  WorkflowExecutionHistory fetch(String id) {
    return client.fetchHistory(id);
  }

  /** The JSON export plus every payload and string field, decoded. */
  String everything(String id) {
    WorkflowExecutionHistory h = fetch(id);
    StringBuilder decoded = new StringBuilder();
    for (HistoryEvent event : h.getHistory().getEventsList()) {
      collect(event, decoded);
    }
    return decoded + h.toJson(true);
  }

  /** Fails if any line of the secret (a key file's body, a password) is in the history. */
  void assertNoSecret(String id, String secret) {
    String all = everything(id);
    List<String> parts =
        secret.lines().filter(l -> !l.startsWith("-----") && l.strip().length() > 8).toList();
    assertFalse(parts.isEmpty(), "a secret to look for");
    assertFalse(all.contains("PRIVATE KEY"), "private key header in history of " + id);
    for (String part : parts) {
      assertFalse(all.contains(part.strip()), "secret material in history of " + id);
    }
  }

  /** The command of every RemoteHost.runCommand step the release scheduled, in order. */
  List<String> commandsScheduled(String id) throws IOException {
    List<String> out = new ArrayList<>();
    for (HistoryEvent e : fetch(id).getHistory().getEventsList()) {
      if (e.hasActivityTaskScheduledEventAttributes()) {
        var a = e.getActivityTaskScheduledEventAttributes();
        if (a.getActivityType().getName().equals("RemoteHost.runCommand")) {
          JsonNode in =
              JSON.readTree(a.getInput().getPayloads(0).getData().toStringUtf8()).get("command");
          out.add(in.asText());
        }
      }
    }
    return out;
  }

  /**
   * Replays the history against the workflow code of this build (a non-deterministic change fails
   * here) and saves it as target/histories/ID.json.
   */
  void replayAndKeep(String id) throws Exception {
    WorkflowExecutionHistory h = fetch(id);
    Class<?>[] all = Runbooks.all().workflowImplementations();
    WorkflowReplayer.replayWorkflowExecution(h, all[0], Arrays.copyOfRange(all, 1, all.length));
    Path dir = Path.of("target", "histories");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(id + ".json"), h.toJson(true));
    assertTrue(Files.size(dir.resolve(id + ".json")) > 0);
  }

  /** Every string and every payload (decoded as UTF-8) in a history event, recursively. */
  static void collect(com.google.protobuf.Message m, StringBuilder sb) {
    if (m instanceof io.temporal.api.common.v1.Payload p) {
      sb.append(p.getData().toStringUtf8()).append('\n');
    }
    for (Object v : m.getAllFields().values()) {
      if (v instanceof com.google.protobuf.Message mm) {
        collect(mm, sb);
      } else if (v instanceof List<?> list) {
        for (Object o : list) {
          if (o instanceof com.google.protobuf.Message mm) {
            collect(mm, sb);
          } else {
            sb.append(o).append('\n');
          }
        }
      } else {
        sb.append(v).append('\n');
      }
    }
  }

  @Override
  public void close() {
    stubs.shutdown();
  }
}

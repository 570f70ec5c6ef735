package dev.crewchief.randopony;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.when;

import dev.crewchief.activities.PathFacts;
import dev.crewchief.config.GateConfig;
import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseIds;
import dev.crewchief.release.SearchAttributes;
import dev.crewchief.release.TestReleases;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A release started since the history economy writes its search attributes once per step
 * transition, the step and the status together, and never an upsert that changes nothing (each is
 * an event in the history, the release's audit log).
 */
class SearchAttributeEconomyTest {
  @RegisterExtension
  static final TestWorkflowExtension testWorkflow = TestReleases.extension(StagingDeployImpl.class);

  String taskQueue;

  @BeforeEach
  void mocks(TestWorkflowEnvironment env, Worker worker) {
    for (var key : SearchAttributes.ALL) {
      env.registerSearchAttribute(key.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
    }
    StagingDeployTest.Mocks m = StagingDeployTest.registerMocks(worker);
    when(m.host().inspect(any())).thenReturn(new PathFacts(true, List.of(StagingDeployTest.APP)));
    taskQueue = worker.getTaskQueue();
    env.start();
  }

  @Test
  void oneUpsertPerStepTransitionAndNoneThatChangesNothing(WorkflowClient client) {
    List<String> names = SearchAttributes.ALL.stream().map(k -> k.getName()).toList();
    ReleaseContext ctx =
        new ReleaseContext(
            StagingDeploy.RUNBOOK,
            "prod",
            "2014r1",
            false,
            "tester",
            Map.of("crew-chief", List.of("alice")),
            Map.<String, GateConfig>of(),
            names);
    String id = ReleaseIds.workflowId(StagingDeploy.RUNBOOK, "prod", "2014r1");
    StagingDeploy wf =
        client.newWorkflowStub(
            StagingDeploy.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(id)
                .setTaskQueue(taskQueue)
                .setTypedSearchAttributes(
                    SearchAttributes.identity(StagingDeploy.RUNBOOK, "prod", "2014r1", names))
                .build());
    wf.deploy(new StagingDeployRequest(ctx, PromoteToProductionTest.SITE));

    Map<String, String> known = new HashMap<>();
    Set<Long> tasks = new HashSet<>();
    int upserts = 0;
    for (HistoryEvent e : client.fetchHistory(id).getEvents()) {
      if (e.getEventType() != EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) {
        continue;
      }
      upserts++;
      var attrs = e.getUpsertWorkflowSearchAttributesEventAttributes();
      assertTrue(
          tasks.add(attrs.getWorkflowTaskCompletedEventId()),
          "two upserts in one workflow task, at event " + e.getEventId());
      boolean changes = false;
      for (Map.Entry<String, Payload> f :
          attrs.getSearchAttributes().getIndexedFieldsMap().entrySet()) {
        String value = f.getValue().getData().toStringUtf8();
        changes |= !value.equals(known.put(f.getKey(), value));
      }
      assertTrue(changes, "upsert at event " + e.getEventId() + " changes nothing");
    }
    assertTrue(upserts > 5, "the release wrote its steps: " + upserts);
    assertEquals("\"done\"", known.get(SearchAttributes.STEP.getName()));
    assertEquals("\"SUCCEEDED\"", known.get(SearchAttributes.STATUS.getName()));
    assertFalse(known.containsKey("TemporalChangeVersion"));
  }
}

package dev.crewchief.atmosphere;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.withSettings;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.ContainerResult;
import dev.crewchief.activities.DockerActivities;
import dev.crewchief.activities.DumpResult;
import dev.crewchief.activities.ExecOutcome;
import dev.crewchief.activities.GitActivities;
import dev.crewchief.activities.ImageTagsRequest;
import dev.crewchief.activities.ImageTagsResult;
import dev.crewchief.activities.MailActivities;
import dev.crewchief.activities.NotifyActivities;
import dev.crewchief.activities.PostgresActivities;
import dev.crewchief.activities.ProxyActivities;
import dev.crewchief.activities.ReleaseCut;
import dev.crewchief.activities.SwitchResult;
import dev.crewchief.activities.WebhookActivities;
import io.temporal.worker.Worker;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The activities of the Atmosphere release and deployment day, mocked, answering as healthy systems
 * would; tests re-stub what they make fail. The compose file names each service's image at 36-0
 * ({@code cyverse/SERVICE:v36-0}) before the day.
 */
final class AtmosphereMocks {
  final DockerActivities docker = mock(DockerActivities.class, withSettings().withoutAnnotations());
  final PostgresActivities postgres =
      mock(PostgresActivities.class, withSettings().withoutAnnotations());
  final ProxyActivities proxy = mock(ProxyActivities.class, withSettings().withoutAnnotations());
  final GitActivities git = mock(GitActivities.class, withSettings().withoutAnnotations());
  final MailActivities mail = mock(MailActivities.class, withSettings().withoutAnnotations());
  final WebhookActivities webhook =
      mock(WebhookActivities.class, withSettings().withoutAnnotations());
  final NotifyActivities notify = mock(NotifyActivities.class, withSettings().withoutAnnotations());

  AtmosphereMocks() {
    ActionResult ok = new ActionResult("ok", false, "");
    when(docker.exec(any())).thenReturn(new ExecOutcome("exec", false, "c", 0, ""));
    when(docker.stopService(any())).thenReturn(ok);
    when(docker.startService(any())).thenReturn(ok);
    when(docker.commitContainer(any())).thenReturn(ok);
    when(docker.pullImage(any())).thenReturn(ok);
    when(docker.awaitImage(any())).thenReturn(ok);
    when(docker.recreateService(any())).thenReturn(new ContainerResult("recreated", false, null));
    when(postgres.dumpDatabase(any()))
        .thenReturn(new DumpResult("dumped", false, "/root/x", 10, 2));
    when(proxy.linkSite(any())).thenReturn(new SwitchResult("linked", false, "", null));
    when(proxy.probe(any())).thenReturn(new ActionResult("probe", false, "200"));
    when(git.checkoutBranch(any())).thenReturn(ok);
    when(git.setImageTags(any())).thenAnswer(i -> tags(i.getArgument(0), "set", true));
    when(git.readImageTags(any())).thenAnswer(i -> tags(i.getArgument(0), "reads", false));
    when(git.cutRelease(any())).thenReturn(new ReleaseCut("cut", false, "abc123", "v36-1", true));
    when(mail.send(any())).thenReturn(ok);
    when(webhook.post(any())).thenReturn(ok);
  }

  /** The compose file before the day: each asked-for service on cyverse/SERVICE:v36-0. */
  private static ImageTagsResult tags(ImageTagsRequest r, String action, boolean changed) {
    if (r == null) {
      return null; // Mockito calls the answer once while a test re-stubs the method.
    }
    Map<String, String> before = new LinkedHashMap<>();
    r.images().keySet().forEach(k -> before.put(k, "cyverse/" + k + ":v36-0"));
    return new ImageTagsResult(action, r.dryRun(), before, changed);
  }

  void register(Worker worker) {
    worker.registerActivitiesImplementations(docker, postgres, proxy, git, mail, webhook, notify);
  }
}

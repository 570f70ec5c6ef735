package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.options.AriaRole;
import com.microsoft.playwright.options.WaitForSelectorState;
import dev.crewchief.adapters.Sandbox;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The gate passed from the Temporal Web UI, in headless Chromium (Debian's package, driven by
 * Playwright): the release's page shows the current step in its details; a gateDecision signal from
 * someone the gate does not allow is refused (the release keeps waiting, and the refusal shows in
 * the UI and in `crewchief status`); the documented payload from an allowed approver passes the
 * gate and the release completes. Screenshots land in starter/target/webui/.
 */
class WebUiIT {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final String ID = "release-randopony-promote-sandbox-2015r1";
  static TemporalDevServer temporal;
  static WorkerProcess worker;
  static Crewchief cc;
  static Path shots;

  static Stack stack;

  @BeforeAll
  static void up() throws Exception {
    stack = Stack.start(Sandbox.get());
    temporal = stack.temporal;
    worker = stack.worker;
    cc = stack.cc;
    shots = Path.of("target", "webui").toAbsolutePath();
    Files.createDirectories(shots);
  }

  @AfterAll
  static void down() throws Exception {
    // Should the test fail at the gate, its rehearsal must not hold the one-release-at-a-time
    // slot of the sandbox environment for the tests that follow.
    if (stack != null) {
      cc.run("cancel", ID);
      stack.close();
    }
  }

  @Test
  void gateRefusedThenApprovedFromTheWebUi() throws Exception {
    assertTrue(Files.isExecutable(CHROMIUM), "chromium is installed by deploy/test.sh");
    // A rehearsal: the same workflow and gate, with no side effects on the sandbox.
    String id = ID;
    assertEquals(
        0,
        cc.run(
                "start",
                "randopony-promote",
                "--env",
                "sandbox",
                "--version",
                "2015r1",
                "--previous",
                "2014r1",
                "--dry-run")
            .exit());
    cc.awaitStatus(id, "gate confirm-release: WAITING", 120);

    // Playwright's own browser download cannot work here: Debian's Chromium is used instead.
    try (Playwright pw =
        Playwright.create(
            new Playwright.CreateOptions()
                .setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")))) {
      Browser browser =
          pw.chromium()
              .launch(
                  new BrowserType.LaunchOptions().setExecutablePath(CHROMIUM).setHeadless(true));
      BrowserContext context =
          browser.newContext(new Browser.NewContextOptions().setViewportSize(1600, 1000));
      context.setDefaultTimeout(30_000);
      Page page = context.newPage();

      String details = currentDetails(page, id);
      shot(page, "1-waiting-at-gate");
      assertTrue(details.contains("gate: confirm-release"), details);
      assertTrue(details.contains("Waiting at gate confirm-release"), details);

      // Someone the gate does not allow: the signal is delivered, the release refuses it.
      sendSignal(
          page,
          id,
          "{\"gate\": \"confirm-release\", \"decision\": \"APPROVE\", \"approver\": \"mallory\","
              + " \"comment\": \"let me through\"}");
      shot(page, "2-refused-signal-sent");
      cc.awaitStatus(
          id, "refused (signal from mallory): 'mallory' may not decide gate 'confirm-release'", 60);
      Crewchief.Result status = cc.run("status", id);
      assertTrue(status.out().contains("gate confirm-release: WAITING"), status.out());
      String refusedDetails = currentDetails(page, id);
      shot(page, "3-refusal-shown");
      // The UI renders the quotes typographically: match the words.
      assertTrue(
          refusedDetails.contains("mallory") && refusedDetails.contains("may not decide gate"),
          refusedDetails);
      assertTrue(refusedDetails.contains("Waiting at gate confirm-release"), refusedDetails);

      // The documented payload from the crew chief.
      sendSignal(
          page,
          id,
          "{\"gate\": \"confirm-release\", \"decision\": \"APPROVE\", \"approver\": \"alice\","
              + " \"comment\": \"approved in the Web UI\"}");
      shot(page, "4-approved");
      browser.close();
    }
    Crewchief.Result watched = cc.run("watch", id);
    assertEquals(0, watched.exit(), watched.out() + "\nworker:\n" + worker.logText());
    String report = cc.run("report", id).out();
    assertTrue(report.contains("| confirm-release | APPROVED | alice |"), report);
    assertTrue(report.contains("| signal | approved in the Web UI |"), report);
    assertTrue(report.contains("\"approver\":\"mallory\""), "the refused request is on record");
    stack.histories.replayAndKeep(id);
  }

  /** Opens the release's User Metadata tab and returns the rendered current details. */
  static String currentDetails(Page page, String id) {
    page.navigate(temporal.uiUrl() + "/namespaces/default/workflows/" + id);
    page.getByRole(AriaRole.TAB, new Page.GetByRoleOptions().setName("User Metadata")).click();
    page.getByRole(AriaRole.HEADING, new Page.GetByRoleOptions().setName("Current Details"))
        .waitFor();
    Locator body = page.frameLocator("#user-metadata-current-details").locator("body");
    // The markdown renders in pieces; wait until the last part (how to decide) is there.
    String text = "";
    for (int i = 0; i < 40 && !text.contains("Web UI:"); i++) {
      page.waitForTimeout(250);
      text = body.innerText();
    }
    return text;
  }

  /** More Actions, Send a Signal, name gateDecision, the JSON payload, Submit. */
  static void sendSignal(Page page, String id, String payload) {
    // With a worker running the UI learns the workflow's signals from its metadata query and
    // offers them in a list; wait for that answer so the form does not change under the test.
    page.waitForResponse(
        r -> r.url().contains("__temporal_workflow_metadata"),
        () -> page.navigate(temporal.uiUrl() + "/namespaces/default/workflows/" + id));
    Locator more =
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("More Actions"));
    more.click();
    page.getByRole(AriaRole.MENUITEM, new Page.GetByRoleOptions().setName("Send a Signal")).click();
    Locator dialog =
        page.getByRole(AriaRole.DIALOG, new Page.GetByRoleOptions().setName("Send a Signal"));
    dialog.waitFor();
    // Every action dialog is rendered twice; look only inside the open one.
    Locator nameInput = dialog.getByTestId("signal-name");
    Locator nameSelect = dialog.getByTestId("signal-select-button");
    nameInput.or(nameSelect).first().waitFor();
    if (nameSelect.isVisible()) {
      nameSelect.click();
      dialog
          .getByRole(
              AriaRole.OPTION,
              new Locator.GetByRoleOptions().setName("gateDecision").setExact(true))
          .click();
    } else {
      nameInput.fill("gateDecision");
    }
    Locator data =
        dialog.getByRole(AriaRole.TEXTBOX, new Locator.GetByRoleOptions().setName("Data"));
    data.fill(payload);
    // The UI reformats the JSON on blur and the dialog grows: blur first, or Submit moves away
    // under the click.
    data.blur();
    page.waitForTimeout(300);
    dialog.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName("Submit")).click();
    page.locator("#workflow-signal-success-toast").waitFor();
    dialog.waitFor(new Locator.WaitForOptions().setState(WaitForSelectorState.HIDDEN));
  }

  static void shot(Page page, String name) {
    page.screenshot(new Page.ScreenshotOptions().setPath(shots.resolve(name + ".png")));
  }
}

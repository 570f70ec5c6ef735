package dev.crewchief.adapters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.sun.net.httpserver.HttpServer;
import dev.crewchief.activities.MailServerRef;
import dev.crewchief.activities.Notification;
import dev.crewchief.activities.NotifyActivities;
import dev.crewchief.activities.NotifyChannels;
import dev.crewchief.adapters.mail.SmtpMailActivities;
import dev.crewchief.adapters.notify.ChannelNotifyActivities;
import dev.crewchief.adapters.notify.ChannelNotifyActivities.Delivered;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.webhook.HttpWebhookActivities;
import dev.crewchief.release.GateStatus;
import dev.crewchief.release.GateView;
import io.temporal.activity.ActivityOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import jakarta.mail.Message;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The channel notifier against real servers: GreenMail (SMTP, in this JVM), the aiosmtpd submission
 * server of {@link SmtpServer} (STARTTLS, login, a refused domain), and the JDK's HTTP server as
 * the chat's incoming webhook. It runs as an activity ({@link TestActivityEnvironment}), which
 * gives it heartbeat details, and once inside a workflow with real retries.
 */
class ChannelNotifyTest {
  static final String RELEASE = "release-atmosphere-prod-36-1";
  static final String APPROVE = "Decide with `crewchief approve " + RELEASE + " deploy --as NAME`";
  static final String SUBJECT = "Waiting for release-manager: gate deploy";
  static final String BODY = "Deploy v36-1 to production <now> & \"soon\"\n\n" + APPROVE;
  // The webhook's token: its URL's last path segment, as in Slack's.
  static final String TOKEN = "XoxWebhookToken" + System.nanoTime();
  static final String PASSWORD = "s3cret-smtp-" + System.nanoTime();
  static final String USER = "crewchief";
  static final GateView GATE =
      new GateView(
          "deploy",
          "Deploy v36-1 to production",
          List.of("release-manager"),
          GateStatus.WAITING,
          null,
          null,
          null,
          null,
          List.of(),
          List.of("alice"),
          false);

  static GreenMail greenMail;
  static int smtpPort;

  @TempDir Path dir;

  record Post(String path, String contentType, String body) {}

  HttpServer chatServer;
  String webhookUrl;
  final List<Post> posts = new CopyOnWriteArrayList<>();
  // Answers for the next posts, in order; 200 "ok" (Slack's) when none is left.
  final ConcurrentLinkedDeque<Integer> statuses = new ConcurrentLinkedDeque<>();
  final Map<String, String> env = new HashMap<>();
  final List<Delivered> heartbeats = new CopyOnWriteArrayList<>();
  ListAppender<ILoggingEvent> logs;
  TestActivityEnvironment activities;

  @BeforeAll
  static void mailUp() {
    greenMail =
        new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort())
            .withConfiguration(
                GreenMailConfiguration.aConfig().withUser("crewchief@example.org", USER, PASSWORD));
    greenMail.start();
    smtpPort = greenMail.getSmtp().getPort();
  }

  @AfterAll
  static void mailDown() {
    greenMail.stop();
  }

  @BeforeEach
  void up() throws Exception {
    greenMail.purgeEmailFromAllMailboxes();
    chatServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    chatServer.createContext(
        "/services/",
        exchange -> {
          byte[] in = exchange.getRequestBody().readAllBytes();
          posts.add(
              new Post(
                  exchange.getRequestURI().getPath(),
                  exchange.getRequestHeaders().getFirst("Content-Type"),
                  new String(in, StandardCharsets.UTF_8)));
          Integer status = statuses.poll();
          int code = status == null ? 200 : status;
          // A receiver that quotes the URL it was called on in its error: that must not reach the
          // failure's message.
          byte[] out =
              (code == 200 ? "ok" : "no_service for " + exchange.getRequestURI())
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(code, out.length);
          exchange.getResponseBody().write(out);
          exchange.close();
        });
    chatServer.start();
    webhookUrl =
        "http://127.0.0.1:" + chatServer.getAddress().getPort() + "/services/T0001/B0001/" + TOKEN;
    env.put("CHAT_WEBHOOK", webhookUrl);
    env.put("SMTP_USER", USER);

    logs = new ListAppender<>();
    logs.start();
    root().addAppender(logs);

    activities = TestActivityEnvironment.newInstance();
    activities.setActivityHeartbeatListener(Delivered.class, heartbeats::add);
    activities.registerActivitiesImplementations(notifier());
  }

  @AfterEach
  void down() {
    activities.close();
    chatServer.stop(0);
    root().detachAppender(logs);
  }

  static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  ChannelNotifyActivities notifier() {
    return new ChannelNotifyActivities(
        new SmtpMailActivities(new SecretResolver(env)),
        HttpWebhookActivities.newClient(),
        new SecretResolver(env));
  }

  NotifyActivities stub(TestActivityEnvironment e) {
    return e.newActivityStub(
        NotifyActivities.class,
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(1))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build());
  }

  static MailServerRef greenMailServer() {
    return new MailServerRef("greenmail", "127.0.0.1", smtpPort, "none", null, null);
  }

  static NotifyChannels.Mail mailTo(MailServerRef server, String... list) {
    return new NotifyChannels.Mail(server, "Crew Chief <crewchief@example.org>", List.of(list));
  }

  static NotifyChannels.Chat chat(String ref) {
    return new NotifyChannels.Chat("atmosphere-ops", ref);
  }

  static Notification gateOpen(NotifyChannels channels) {
    return new Notification(
        "gate: deploy",
        RELEASE,
        Notification.Kind.GATE_OPEN,
        List.of("alice"),
        SUBJECT,
        BODY,
        GATE,
        // The list's address again, written differently: it gets one copy.
        List.of("Alice <alice@people.example.org>", "OPS@lists.example.org"),
        channels);
  }

  static NotifyChannels both() {
    return new NotifyChannels(
        mailTo(greenMailServer(), "ops@lists.example.org"), chat("env:CHAT_WEBHOOK"));
  }

  /** Runs the activity and returns its failure. */
  ApplicationFailure fails(String type, Notification n) {
    ActivityFailure f = assertThrows(ActivityFailure.class, () -> stub(activities).notify(n));
    ApplicationFailure a = (ApplicationFailure) f.getCause();
    assertEquals(type, a.getType(), a.getOriginalMessage());
    assertNoSecret(a.getOriginalMessage());
    assertNoSecret(logText());
    return a;
  }

  void assertNoSecret(String text) {
    assertFalse(text.contains(TOKEN), "the webhook's token is never shown: " + text);
    assertFalse(text.contains(webhookUrl), text);
    assertFalse(text.contains(PASSWORD), "the SMTP password is never shown: " + text);
  }

  /** Everything logged during the test, messages and the messages of their exceptions. */
  String logText() {
    StringBuilder b = new StringBuilder();
    for (ILoggingEvent e : new ArrayList<>(logs.list)) {
      b.append(e.getLoggerName()).append(' ').append(e.getFormattedMessage()).append('\n');
      for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
        b.append("  ").append(t.getMessage()).append('\n');
      }
    }
    return b.toString();
  }

  List<String> notifyLogLines() {
    return new ArrayList<>(logs.list)
        .stream()
            .filter(e -> e.getLoggerName().equals("crewchief.notify"))
            .map(ILoggingEvent::getFormattedMessage)
            .toList();
  }

  static List<MimeMessage> mailFor(String address) {
    return greenMail.findReceivedMessages(u -> u.getEmail().equals(address), m -> true).toList();
  }

  @Test
  void gateOpenReachesTheListThePersonAndTheChat() throws Exception {
    stub(activities).notify(gateOpen(both()));

    // One message in one transaction: GreenMail keeps a copy per recipient's mailbox.
    MimeMessage[] got = greenMail.getReceivedMessages();
    assertEquals(2, got.length);
    assertEquals(1, mailFor("ops@lists.example.org").size());
    assertEquals(1, mailFor("alice@people.example.org").size());
    MimeMessage m = mailFor("alice@people.example.org").get(0);
    assertEquals("[crewchief] " + SUBJECT, m.getSubject());
    assertEquals(
        List.of(
            new InternetAddress("ops@lists.example.org"),
            new InternetAddress("Alice <alice@people.example.org>")),
        Arrays.asList(m.getRecipients(Message.RecipientType.TO)));
    String body = ((String) m.getContent()).replace("\r\n", "\n");
    assertTrue(body.startsWith(BODY + "\n\n-- \n"), body);
    assertTrue(body.contains(APPROVE), body);
    assertTrue(body.contains("\nRelease: " + RELEASE + "\n"), body);
    assertTrue(body.contains("\nNotification: GATE_OPEN\n"), body);
    assertTrue(body.contains("\nGate: deploy, waiting for release-manager: alice\n"), body);
    assertTrue(
        Pattern.matches(
            "<release-atmosphere-prod-36-1\\.gate-deploy\\.gate_open\\.[0-9a-f]{16}@crewchief>",
            m.getMessageID()),
        m.getMessageID());

    assertEquals(1, posts.size());
    Post p = posts.get(0);
    assertEquals("/services/T0001/B0001/" + TOKEN, p.path());
    assertTrue(p.contentType().startsWith("application/json"), p.contentType());
    JsonNode json = new ObjectMapper().readTree(p.body());
    assertEquals(List.of("text"), iterableToList(json.fieldNames()));
    assertEquals(
        "*"
            + SUBJECT
            + "*\nDeploy v36-1 to production &lt;now&gt; &amp; \"soon\"\n\n"
            + APPROVE
            + "\n_"
            + RELEASE
            + ", gate open, gate deploy, waiting for release-manager: alice_",
        json.get("text").asText());

    // The chat went first and was recorded at once (later heartbeats of an attempt that succeeds
    // may be folded by the SDK's throttling: only a retry needs them, and it gets the last one).
    assertEquals(new Delivered(List.of("chat")), heartbeats.get(0));
    List<String> lines = notifyLogLines();
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).contains(RELEASE + "] GATE_OPEN to alice: " + SUBJECT), lines.get(0));
    assertNoSecret(logText());
  }

  static List<String> iterableToList(java.util.Iterator<String> it) {
    List<String> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }

  @Test
  void aFailingChatStillLetsTheMailGoAndTheRetrySendsOnlyTheChat() throws Exception {
    statuses.add(500);
    ApplicationFailure f = fails("NotifyFailed", gateOpen(both()));
    assertFalse(f.isNonRetryable());
    String m = f.getOriginalMessage();
    assertTrue(m.contains("chat 'atmosphere-ops' (webhook env:CHAT_WEBHOOK)"), m);
    assertTrue(m.contains("answered 500"), m);
    assertTrue(m.contains("Delivered: the log, e-mail via smtp://127.0.0.1:" + smtpPort), m);
    assertEquals(2, greenMail.getReceivedMessages().length);
    assertEquals(1, posts.size());
    assertEquals(List.of(new Delivered(List.of("email"))), heartbeats);

    // The next attempt starts with the last details of this one, as Temporal hands them over.
    activities.setHeartbeatDetails(heartbeats.get(heartbeats.size() - 1));
    stub(activities).notify(gateOpen(both()));
    assertEquals(2, greenMail.getReceivedMessages().length, "the e-mail is not sent again");
    assertEquals(2, posts.size());
    // The retry carries what it was told into its own details first.
    assertEquals(new Delivered(List.of("email")), heartbeats.get(1));
  }

  @Test
  void detailsSayingTheEmailIsDoneSendOnlyTheChat() {
    activities.setHeartbeatDetails(new Delivered(List.of("email")));
    stub(activities).notify(gateOpen(both()));
    assertEquals(0, greenMail.getReceivedMessages().length);
    assertEquals(1, posts.size());

    activities.setHeartbeatDetails(new Delivered(List.of("chat", "email")));
    stub(activities).notify(gateOpen(both()));
    assertEquals(0, greenMail.getReceivedMessages().length);
    assertEquals(1, posts.size());
    // The log line is written on every attempt: it is how a person sees the retry.
    assertEquals(2, notifyLogLines().size());
  }

  @Test
  void aRefusedRecipientStillLetsTheChatGoAndNamesTheEmail() throws Exception {
    SmtpServer submission = SmtpServer.get();
    env.put("SMTP_USER", submission.user);
    MailServerRef server =
        new MailServerRef(
            "submission",
            "127.0.0.1",
            submission.port,
            "starttls",
            "env:SMTP_USER",
            "file:" + submission.passwordFile(),
            submission.certificate().toString());
    String unknown = "nobody@" + SmtpServer.REJECTED_DOMAIN;
    int before = submission.messages().size();
    Notification n =
        gateOpen(
            new NotifyChannels(
                mailTo(server, "ops@lists.example.org", unknown), chat("env:CHAT_WEBHOOK")));

    ApplicationFailure f = fails("NotifyFailed", n);
    String m = f.getOriginalMessage();
    assertTrue(m.contains("e-mail via smtp://127.0.0.1:" + submission.port + " (starttls)"), m);
    assertTrue(m.contains(unknown) && m.contains("550"), m);
    assertTrue(m.contains("[MailRejected]"), m);
    assertTrue(m.contains("Delivered: the log, chat 'atmosphere-ops'"), m);
    assertFalse(m.contains(submission.password), m);
    assertFalse(logText().contains(submission.password));
    assertEquals(before, submission.messages().size(), "nobody got the e-mail");
    assertEquals(1, posts.size());
  }

  @Test
  void overStartTlsWithALoginTheMailArrives() throws Exception {
    SmtpServer submission = SmtpServer.get();
    env.put("SMTP_USER", submission.user);
    MailServerRef server =
        new MailServerRef(
            "submission",
            "127.0.0.1",
            submission.port,
            "starttls",
            "env:SMTP_USER",
            "file:" + submission.passwordFile(),
            submission.certificate().toString());
    int before = submission.messages().size();
    stub(activities).notify(gateOpen(new NotifyChannels(mailTo(server), null)));
    List<Path> got = submission.messages();
    assertEquals(before + 1, got.size());
    Path last = got.get(got.size() - 1);
    String message = Files.readString(last);
    assertTrue(message.contains("Subject: [crewchief] " + SUBJECT), message);
    assertTrue(message.contains(APPROVE), message);
    String envelope = Files.readString(Path.of(last.toString().replace(".eml", ".env")));
    // No list: the person alone (and the list's address, which the notification names too).
    assertTrue(
        envelope.contains("to alice@people.example.org OPS@lists.example.org"), "" + envelope);
    assertFalse(logText().contains(submission.password));
    assertEquals(0, posts.size());
  }

  @Test
  void aWrongSmtpPasswordIsNeverQuoted() throws Exception {
    Path wrong = dir.resolve("smtp-password");
    String wrongPassword = "wrong-" + PASSWORD;
    Files.writeString(wrong, wrongPassword + "\n");
    MailServerRef server =
        new MailServerRef(
            "greenmail", "127.0.0.1", smtpPort, "none", "env:SMTP_USER", "file:" + wrong);
    ApplicationFailure f =
        fails(
            "NotifyFailed",
            gateOpen(
                new NotifyChannels(
                    mailTo(server, "ops@lists.example.org"), chat("env:CHAT_WEBHOOK"))));
    assertTrue(f.getOriginalMessage().contains("[MailAuthFailed]"), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("file:" + wrong), f.getOriginalMessage());
    assertFalse(f.getOriginalMessage().contains(wrongPassword));
    assertFalse(logText().contains(wrongPassword));
    assertEquals(0, greenMail.getReceivedMessages().length);
    assertEquals(1, posts.size());
  }

  @Test
  void withoutChannelsOnlyTheLogIsWritten() {
    NotifyActivities notify = stub(activities);
    notify.notify(gateOpen(null));
    notify.notify(gateOpen(new NotifyChannels(null, null)));
    // The notification of a release started before channels existed.
    notify.notify(
        new Notification(
            "release_started",
            RELEASE,
            Notification.Kind.RELEASE_STARTED,
            List.of(),
            "Release started",
            "",
            null));
    assertEquals(0, greenMail.getReceivedMessages().length);
    assertEquals(0, posts.size());
    assertEquals(List.of(), heartbeats);
    List<String> lines = notifyLogLines();
    assertEquals(3, lines.size(), lines.toString());
    assertTrue(lines.get(2).contains("RELEASE_STARTED to everyone: Release started"), lines.get(2));
  }

  @Test
  void nobodyToMailIsNotAFailure() {
    Notification started =
        new Notification(
            "release_started",
            RELEASE,
            Notification.Kind.RELEASE_STARTED,
            List.of(),
            "Release started",
            "v36-1 to production",
            null,
            List.of(),
            new NotifyChannels(mailTo(greenMailServer()), chat("env:CHAT_WEBHOOK")));
    stub(activities).notify(started);
    assertEquals(0, greenMail.getReceivedMessages().length);
    assertEquals(1, posts.size());
    assertEquals(List.of(new Delivered(List.of("chat"))), heartbeats);
  }

  @Test
  void aPastedWebhookUrlIsMisconfiguredNotRepeatedAndTheMailStillGoes() {
    String pasted = "https://hooks.example.org/services/T0001/B0001/" + TOKEN;
    ApplicationFailure f =
        fails(
            "NotifyMisconfigured",
            gateOpen(
                new NotifyChannels(
                    mailTo(greenMailServer(), "ops@lists.example.org"), chat(pasted))));
    assertTrue(f.isNonRetryable());
    String m = f.getOriginalMessage();
    assertTrue(m.contains("not of the form file:/path or env:NAME"), m);
    assertTrue(m.contains("chat 'atmosphere-ops' (webhook reference malformed)"), m);
    assertFalse(m.contains("hooks.example.org"), m);
    assertEquals(2, greenMail.getReceivedMessages().length);
    assertEquals(0, posts.size());
  }

  @Test
  void aWebhookSecretThatIsNoUsableUrlIsMisconfigured() {
    for (String value :
        List.of(
            "hooks.example.org/services/T0001/B0001/" + TOKEN,
            "http://hooks.example.org/services/T0001/B0001/" + TOKEN,
            "https://user:" + TOKEN + "@hooks.example.org/x",
            "not a url " + TOKEN)) {
      env.put("BAD_WEBHOOK", value);
      ApplicationFailure f =
          fails("NotifyMisconfigured", gateOpen(new NotifyChannels(null, chat("env:BAD_WEBHOOK"))));
      assertTrue(f.getOriginalMessage().contains("env:BAD_WEBHOOK"), f.getOriginalMessage());
      assertFalse(f.getOriginalMessage().contains("hooks.example.org"), f.getOriginalMessage());
    }
    env.remove("BAD_WEBHOOK");
    ApplicationFailure unset =
        fails("NotifyMisconfigured", gateOpen(new NotifyChannels(null, chat("env:BAD_WEBHOOK"))));
    assertTrue(
        unset.getOriginalMessage().contains("[SecretUnresolved]"), unset.getOriginalMessage());
    assertEquals(0, posts.size());
  }

  @Test
  void anInvalidAddressIsMisconfiguredAndTheChatStillGoes() {
    ApplicationFailure f =
        fails(
            "NotifyMisconfigured",
            gateOpen(
                new NotifyChannels(
                    mailTo(greenMailServer(), "ops@lists.example.org", "ops at example"),
                    chat("env:CHAT_WEBHOOK"))));
    assertTrue(f.getOriginalMessage().contains("'ops at example'"), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("[InvalidInput]"), f.getOriginalMessage());
    assertEquals(0, greenMail.getReceivedMessages().length);
    assertEquals(1, posts.size());
  }

  @Test
  void aMistakeBesideAnOutageIsRetriedForTheOutage() throws IOException {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    MailServerRef gone = new MailServerRef("gone", "127.0.0.1", closed, "none", null, null);
    ApplicationFailure f =
        fails(
            "NotifyFailed",
            gateOpen(new NotifyChannels(mailTo(gone, "ops@lists.example.org"), chat("webhook"))));
    assertFalse(f.isNonRetryable());
    String m = f.getOriginalMessage();
    assertTrue(m.contains("[MailUnreachable]") && m.contains("[NotifyMisconfigured]"), m);
  }

  @Test
  void aRetrySendsTheSameMessageIdAndAReminderAnother() throws Exception {
    Notification reminder =
        new Notification(
            "gate: deploy",
            RELEASE,
            Notification.Kind.GATE_REMINDER,
            List.of("alice"),
            "Still waiting: gate deploy",
            "Deploy v36-1 to production",
            GATE,
            List.of("alice@people.example.org"),
            new NotifyChannels(mailTo(greenMailServer()), null));
    // Two reminders of one gate read the same but are two activities.
    stub(activities).notify(reminder);
    stub(activities).notify(reminder);
    List<MimeMessage> got = mailFor("alice@people.example.org");
    assertEquals(2, got.size());
    assertNotEquals(got.get(0).getMessageID(), got.get(1).getMessageID());

    // A retry is the same activity again: in a fresh environment the first activity has the same
    // id as the first one above.
    TestActivityEnvironment again = TestActivityEnvironment.newInstance();
    try {
      again.registerActivitiesImplementations(notifier());
      stub(again).notify(reminder);
    } finally {
      again.close();
    }
    got = mailFor("alice@people.example.org");
    assertEquals(3, got.size());
    assertEquals(got.get(0).getMessageID(), got.get(2).getMessageID());

    assertEquals(
        ChannelNotifyActivities.messageId(reminder, "a1"),
        ChannelNotifyActivities.messageId(reminder, "a1"));
    assertNotEquals(
        ChannelNotifyActivities.messageId(reminder, "a1"),
        ChannelNotifyActivities.messageId(gateOpen(null), "a1"));
  }

  @WorkflowInterface
  public interface NotifyOnce {
    @WorkflowMethod
    void run(Notification n);
  }

  /** Calls the notifier as a release does, with Temporal retrying its failed attempts. */
  public static class NotifyOnceImpl implements NotifyOnce {
    private final NotifyActivities notify =
        Workflow.newActivityStub(
            NotifyActivities.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofSeconds(30))
                .setRetryOptions(
                    RetryOptions.newBuilder()
                        .setInitialInterval(Duration.ofMillis(100))
                        .setMaximumAttempts(3)
                        .build())
                .build());

    @Override
    public void run(Notification n) {
      notify.notify(n);
    }
  }

  @Test
  void inAWorkflowTheRetryAfterAFailedChatDoesNotMailAgain() {
    statuses.add(503);
    statuses.add(500);
    try (TestWorkflowEnvironment workflows = TestWorkflowEnvironment.newInstance()) {
      Worker worker = workflows.newWorker("notify");
      worker.registerWorkflowImplementationTypes(NotifyOnceImpl.class);
      worker.registerActivitiesImplementations(notifier());
      workflows.start();
      NotifyOnce wf =
          workflows
              .getWorkflowClient()
              .newWorkflowStub(
                  NotifyOnce.class, WorkflowOptions.newBuilder().setTaskQueue("notify").build());
      wf.run(gateOpen(both()));
    }
    assertEquals(3, posts.size(), "three attempts at the chat");
    assertEquals(2, greenMail.getReceivedMessages().length, "one e-mail, to two mailboxes");
    assertEquals(3, notifyLogLines().size());
    assertNoSecret(logText());
  }
}

package dev.crewchief.adapters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.MailActivities;
import dev.crewchief.activities.MailRequest;
import dev.crewchief.activities.MailServerRef;
import dev.crewchief.adapters.mail.SmtpMailActivities;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import jakarta.mail.Message;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** The SMTP adapter against a real SMTP server (GreenMail, in this JVM, on a free port). */
class MailAdapterTest {
  static final String USER = "crewchief";
  static final String PASSWORD = "s3cret-smtp-" + System.nanoTime();
  static final String MESSAGE_ID = "<release-atmosphere-release-prod-36-1.notice@crewchief>";
  static final String BODY =
      "Atmosphere will be unavailable for maintenance.\n\nMaintenance window: 2019-06-16 09:00"
          + " MST\nRelease: v36-1\nCrew chief: alice\n";

  static GreenMail smtp;
  static int port;

  @TempDir Path dir;

  @BeforeAll
  static void up() {
    smtp =
        new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort())
            .withConfiguration(
                GreenMailConfiguration.aConfig().withUser("crewchief@example.org", USER, PASSWORD));
    smtp.start();
    port = smtp.getSmtp().getPort();
  }

  @AfterAll
  static void down() {
    smtp.stop();
  }

  @BeforeEach
  void empty() throws Exception {
    smtp.purgeEmailFromAllMailboxes();
  }

  static MailServerRef server(String usernameRef, String passwordRef) {
    return new MailServerRef("greenmail", "127.0.0.1", port, "none", usernameRef, passwordRef);
  }

  static MailRequest notice(MailServerRef server, List<String> to, boolean dryRun) {
    return new MailRequest(
        "maintenance notice",
        server,
        "Crew Chief <crewchief@example.org>",
        to,
        "Scheduled maintenance: Atmosphere v36-1",
        BODY,
        MESSAGE_ID,
        dryRun);
  }

  static SmtpMailActivities adapter(Map<String, String> env) {
    return new SmtpMailActivities(new SecretResolver(env));
  }

  @Test
  void sentNoticeArrivesWithItsHeadersAndMessageId() throws Exception {
    List<String> to = List.of("atmosphere-users@example.org", "ops@example.org");
    ActionResult r = adapter(Map.of()).send(notice(server(null, null), to, false));

    assertFalse(r.rehearsed());
    assertTrue(r.output().contains(MESSAGE_ID), r.output());
    assertTrue(r.output().contains("2 recipient(s)"), r.output());
    MimeMessage[] got = smtp.getReceivedMessages();
    // GreenMail keeps one copy per recipient's mailbox: one transaction, two deliveries.
    assertEquals(2, got.length);
    for (MimeMessage m : got) {
      assertEquals("Scheduled maintenance: Atmosphere v36-1", m.getSubject());
      assertEquals(MESSAGE_ID, m.getMessageID());
      assertEquals(
          List.of(new InternetAddress("Crew Chief <crewchief@example.org>")),
          Arrays.asList(m.getFrom()));
      assertEquals(
          List.of(
              new InternetAddress("atmosphere-users@example.org"),
              new InternetAddress("ops@example.org")),
          Arrays.asList(m.getRecipients(Message.RecipientType.TO)));
      // The final line break is not kept by GreenMail's store (it is the one before the "." that
      // ends SMTP DATA); every other line arrives as written.
      assertEquals(
          BODY.stripTrailing(), ((String) m.getContent()).replace("\r\n", "\n").stripTrailing());
      assertTrue(m.getContentType().startsWith("text/plain"), m.getContentType());
    }
  }

  @Test
  void loginWithSecretReferencesWorksAndAWrongPasswordIsAuthFailed() throws Exception {
    Path password = dir.resolve("smtp-password");
    Files.writeString(password, PASSWORD + "\n");
    SmtpMailActivities a = adapter(Map.of("SMTP_USER", USER));
    MailServerRef good = server("env:SMTP_USER", "file:" + password);
    ActionResult r = a.send(notice(good, List.of("atmosphere-users@example.org"), false));
    assertEquals(1, smtp.getReceivedMessages().length);
    assertFalse(r.toString().contains(PASSWORD));

    Path wrongFile = dir.resolve("wrong-password");
    String wrong = "not-the-password-" + System.nanoTime();
    Files.writeString(wrongFile, wrong);
    MailServerRef bad = server("env:SMTP_USER", "file:" + wrongFile);
    ApplicationFailure f =
        assertFailure(
            "MailAuthFailed",
            () -> a.send(notice(bad, List.of("atmosphere-users@example.org"), false)));
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("file:" + wrongFile), f.getOriginalMessage());
    assertFalse(f.getOriginalMessage().contains(wrong));
    assertFalse(f.getOriginalMessage().contains(PASSWORD));
    assertEquals(1, smtp.getReceivedMessages().length);
  }

  @Test
  void nothingListeningIsUnreachableAndRetryable() throws IOException {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    MailServerRef gone = new MailServerRef("gone", "127.0.0.1", closed, "none", null, null);
    long start = System.nanoTime();
    ApplicationFailure f =
        assertFailure(
            "MailUnreachable",
            () -> adapter(Map.of()).send(notice(gone, List.of("ops@example.org"), false)));
    // A refused connection fails at once, not after the 15 s connect timeout.
    assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10);
    assertFalse(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains(String.valueOf(closed)), f.getOriginalMessage());
  }

  @Test
  void invalidAddressesAreInvalidInputAndNothingIsSent() {
    SmtpMailActivities a = adapter(Map.of());
    for (String bad :
        List.of(
            "not an address",
            "ops@",
            "ops@example.org, dev@example.org",
            "ops@example.org\r\nBcc: everyone@example.org",
            "")) {
      ApplicationFailure f =
          assertFailure(
              "InvalidInput",
              () -> a.send(notice(server(null, null), List.of("ops@example.org", bad), false)));
      assertTrue(f.isNonRetryable());
    }
    MailRequest badFrom =
        new MailRequest(
            "n",
            server(null, null),
            "crew chief",
            List.of("ops@example.org"),
            "s",
            "b",
            MESSAGE_ID,
            false);
    assertFailure("InvalidInput", () -> a.send(badFrom));
    MailRequest badId =
        new MailRequest(
            "n",
            server(null, null),
            "crewchief@example.org",
            List.of("ops@example.org"),
            "s",
            "b",
            "random-id",
            false);
    assertFailure("InvalidInput", () -> a.send(badId));
    // A password pasted where its reference belongs is refused and not repeated.
    ApplicationFailure f =
        assertFailure(
            "InvalidInput",
            () ->
                a.send(
                    notice(
                        server("env:SMTP_USER", "hunter2-secret"),
                        List.of("ops@example.org"),
                        false)));
    assertFalse(f.getOriginalMessage().contains("hunter2-secret"));
    assertEquals(0, smtp.getReceivedMessages().length);
  }

  @Test
  void dryRunSendsNothingShowsNoSecretAndChecksTheLoginResolves() {
    MailServerRef s = server("env:REHEARSED_SMTP_USER", "env:UNSET_SMTP_PASSWORD");
    // A login the real send could not find fails the rehearsal, naming the reference.
    ApplicationFailure unset =
        assertFailure(
            "SecretUnresolved",
            () ->
                adapter(Map.of("REHEARSED_SMTP_USER", "crewchief"))
                    .send(notice(s, List.of("ops@example.org"), true)));
    assertTrue(
        unset.getOriginalMessage().contains("env:UNSET_SMTP_PASSWORD"), unset.getOriginalMessage());
    ActionResult r =
        adapter(Map.of("REHEARSED_SMTP_USER", "crewchief", "UNSET_SMTP_PASSWORD", "pw-5678"))
            .send(notice(s, List.of("atmosphere-users@example.org", "ops@example.org"), true));
    assertFalse(r.toString().contains("pw-5678"), r.toString());
    assertTrue(r.rehearsed());
    assertEquals(0, smtp.getReceivedMessages().length);
    String a = r.action();
    assertTrue(a.startsWith("SMTP smtp://127.0.0.1:" + port + " (none)"), a);
    assertTrue(a.contains("<env:UNSET_SMTP_PASSWORD>"), a);
    assertTrue(a.contains("\nFrom: Crew Chief <crewchief@example.org>\n"), a);
    assertTrue(a.contains("\nTo: atmosphere-users@example.org, ops@example.org\n"), a);
    assertTrue(a.contains("\nSubject: Scheduled maintenance: Atmosphere v36-1\n"), a);
    assertTrue(a.contains("\nMessage-ID: " + MESSAGE_ID + "\n"), a);
    assertTrue(a.contains("\n\nAtmosphere will be unavailable for maintenance.\n"), a);

    // Addresses are checked in a dry run too.
    assertFailure(
        "InvalidInput",
        () ->
            adapter(Map.of("REHEARSED_SMTP_USER", "u", "UNSET_SMTP_PASSWORD", "p"))
                .send(notice(s, List.of("nobody at all"), true)));
  }

  @Test
  void asAnActivityARetriedSendCarriesTheSameMessageId() throws Exception {
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(adapter(Map.of()));
      MailActivities mail =
          env.newActivityStub(
              MailActivities.class,
              ActivityOptions.newBuilder()
                  .setStartToCloseTimeout(Duration.ofMinutes(1))
                  .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
                  .build());
      MailRequest req = notice(server(null, null), List.of("ops@example.org"), false);
      mail.send(req);
      mail.send(req);
      MimeMessage[] got = smtp.getReceivedMessages();
      assertEquals(2, got.length);
      assertEquals(got[0].getMessageID(), got[1].getMessageID());

      ActivityFailure f =
          assertThrows(
              ActivityFailure.class,
              () -> mail.send(notice(server(null, null), List.of("x@"), false)));
      assertEquals("InvalidInput", ((ApplicationFailure) f.getCause()).getType());
    } finally {
      env.close();
    }
  }

  static ApplicationFailure assertFailure(String type, Executable call) {
    ApplicationFailure f = assertThrows(ApplicationFailure.class, call);
    assertEquals(type, f.getType(), f.getOriginalMessage());
    return f;
  }
}

package dev.crewchief.adapters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.MailRequest;
import dev.crewchief.activities.MailServerRef;
import dev.crewchief.adapters.mail.SmtpMailActivities;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SMTP adapter against a submission server that works like the runbook's (port 587): a real
 * SMTP server ({@link SmtpServer}, aiosmtpd) that requires STARTTLS, then a login, and refuses
 * unknown recipients. Its certificate is trusted through the server's {@code caFile}.
 */
class MailStartTlsAdapterTest {
  static SmtpServer smtp;
  static final String MESSAGE_ID = MailAdapterTest.MESSAGE_ID;

  @TempDir Path tmp;

  @BeforeAll
  static void up() {
    smtp = SmtpServer.get();
  }

  SmtpMailActivities adapter() {
    return new SmtpMailActivities(new SecretResolver(Map.of("SMTP_USER", smtp.user)));
  }

  MailServerRef server(String security, String passwordRef, String caFile) {
    return new MailServerRef(
        "submission", "127.0.0.1", smtp.port, security, "env:SMTP_USER", passwordRef, caFile);
  }

  MailServerRef trusted() {
    return server("starttls", "file:" + smtp.passwordFile(), smtp.certificate().toString());
  }

  static MailRequest notice(MailServerRef server, List<String> to) {
    return MailAdapterTest.notice(server, to, false);
  }

  ApplicationFailure refused(String type, MailRequest r) throws Exception {
    int before = smtp.messages().size();
    ApplicationFailure f = assertThrows(ApplicationFailure.class, () -> adapter().send(r));
    assertEquals(type, f.getType(), f.getOriginalMessage());
    assertTrue(f.isNonRetryable(), f.getOriginalMessage());
    assertFalse(f.getOriginalMessage().contains(smtp.password), "the password is never quoted");
    assertEquals(before, smtp.messages().size(), "nobody got the message");
    return f;
  }

  @Test
  void sendsOverStartTlsWithTheLoginTrustingTheServersCertificate() throws Exception {
    int before = smtp.messages().size();
    ActionResult r = adapter().send(notice(trusted(), List.of("atmosphere-users@example.org")));
    assertTrue(r.output().contains("accepted " + MESSAGE_ID), r.output());
    List<Path> got = smtp.messages();
    assertEquals(before + 1, got.size());
    Path last = got.get(got.size() - 1);
    String message = Files.readString(last);
    assertTrue(message.contains("Subject: Scheduled maintenance: Atmosphere v36-1"), message);
    assertTrue(message.contains("Message-ID: " + MESSAGE_ID), message);
    String envelope = Files.readString(Path.of(last.toString().replace(".eml", ".env")));
    assertTrue(envelope.contains("to atmosphere-users@example.org"), envelope);
    assertFalse(r.toString().contains(smtp.password));
  }

  @Test
  void aCertificateTheWorkerDoesNotTrustStopsTheSendBeforeTheLogin() throws Exception {
    // Without the caFile the JVM's own trust store applies, which does not know this server.
    ApplicationFailure f =
        refused(
            "MailTlsFailed",
            notice(
                server("starttls", "file:" + smtp.passwordFile(), null),
                List.of("atmosphere-users@example.org")));
    assertTrue(f.getOriginalMessage().contains("certificate"), f.getOriginalMessage());
    // A caFile with other certificates is no better.
    Path other = tmp.resolve("other-ca.pem");
    SmtpServer.selfSigned("/CN=someone-else", null, tmp.resolve("k.pem"), other);
    refused(
        "MailTlsFailed",
        notice(
            server("starttls", "file:" + smtp.passwordFile(), other.toString()),
            List.of("atmosphere-users@example.org")));
  }

  @Test
  void aWrongPasswordIsMailAuthFailed() throws Exception {
    Path wrong = tmp.resolve("wrong");
    Files.writeString(wrong, "not-the-password\n");
    ApplicationFailure f =
        refused(
            "MailAuthFailed",
            notice(
                server("starttls", "file:" + wrong, smtp.certificate().toString()),
                List.of("atmosphere-users@example.org")));
    assertTrue(f.getOriginalMessage().contains("file:" + wrong), f.getOriginalMessage());
  }

  @Test
  void aRefusedRecipientIsMailRejectedAndNobodyGetsTheMessage() throws Exception {
    String unknown = "nobody@" + SmtpServer.REJECTED_DOMAIN;
    ApplicationFailure f =
        refused(
            "MailRejected", notice(trusted(), List.of("atmosphere-users@example.org", unknown)));
    assertTrue(f.getOriginalMessage().contains(unknown), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("550"), f.getOriginalMessage());
  }

  @Test
  void plainSmtpToAServerThatRequiresStartTlsIsRefusedNotRetried() throws Exception {
    ApplicationFailure f =
        refused(
            "MailTlsFailed",
            notice(
                server("none", "file:" + smtp.passwordFile(), null),
                List.of("atmosphere-users@example.org")));
    assertTrue(
        f.getOriginalMessage().contains("configure security starttls"), f.getOriginalMessage());
  }
}

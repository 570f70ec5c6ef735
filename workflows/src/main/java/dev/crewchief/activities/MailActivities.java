package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * An SMTP server that sends e-mail for a release (maintenance notices to users' lists). Failure
 * types: {@code MailUnreachable} (connection refused, timeouts, the server temporarily unavailable;
 * retried), {@code MailSendFailed} (any other failure to send; retried), {@code MailAuthFailed},
 * {@code MailRejected} (names the refused address; nobody got the message), {@code MailTlsFailed},
 * {@code SecretUnresolved}, {@code InvalidInput} (not retryable; the message says what to change).
 *
 * <p>Idempotency has a limit here: SMTP cannot make a send exactly-once. If the connection drops
 * after the server accepted the message but before it said so, the activity fails, is retried, and
 * the message goes out a second time. The adapter sends at most once per activity attempt (a
 * failure is never retried inside the attempt), and the request's fixed {@code messageId} makes
 * such a duplicate recognisable downstream; a step that must not repeat a notice should retry
 * sparingly.
 */
@ActivityInterface
public interface MailActivities {
  /**
   * Send one message to all recipients in one SMTP transaction. In a dry run the addresses are
   * checked and the message that would be sent is returned; nothing is sent and no secret is read.
   */
  @ActivityMethod(name = "Mail.send")
  ActionResult send(MailRequest request);
}

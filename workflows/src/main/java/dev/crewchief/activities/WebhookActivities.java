package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * HTTP endpoints that take JSON (status pages, chat and calendar webhooks). Failure types: {@code
 * WebhookUnreachable} (connection errors, timeouts, 5xx and 429 answers; retried), {@code
 * WebhookRejected} (any other 4xx, with the status and the end of the answer's body), {@code
 * SecretUnresolved}, {@code InvalidInput} (not retryable; the message says what to change).
 */
@ActivityInterface
public interface WebhookActivities {
  /**
   * POST the request's JSON with {@code Content-Type: application/json} and its {@code
   * Idempotency-Key}; a 2xx answer is success and its body (shortened) is the result's output. In a
   * dry run the request that would be sent is returned; nothing is sent and no secret is read.
   */
  @ActivityMethod(name = "Webhook.post")
  ActionResult post(WebhookRequest request);
}

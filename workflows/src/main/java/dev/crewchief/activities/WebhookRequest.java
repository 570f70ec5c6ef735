package dev.crewchief.activities;

/**
 * A JSON document to POST to an HTTP endpoint, such as a scheduled maintenance on a status page.
 * {@code authHeaderRef} is a secret reference ({@code file:/path} or {@code env:VAR}) to the whole
 * value of the {@code Authorization} header (for example {@code Bearer xyz}), resolved inside the
 * activity so that the token never enters workflow history; null means no {@code Authorization}
 * header. {@code idempotencyKey} is sent as the {@code Idempotency-Key} header; the workflow
 * derives it from the release id and the step, so that every attempt sends the same key and a
 * receiver that honours it acts once.
 */
public record WebhookRequest(
    String step,
    String url,
    String authHeaderRef,
    String idempotencyKey,
    String jsonBody,
    boolean dryRun) {}

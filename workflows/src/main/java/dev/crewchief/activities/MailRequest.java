package dev.crewchief.activities;

import java.util.List;

/**
 * One plain-text e-mail, such as the maintenance notice sent to the users list two weeks before a
 * release.
 *
 * <p>{@code messageId} becomes the message's {@code Message-ID} header. The workflow derives it
 * from the release id and the step (for example {@code
 * <release-atmosphere-release-prod-36-1.notice@crewchief>}), never from a random value, so that
 * every attempt of the step sends the same id and a message delivered twice by a retry is
 * recognisable as one message downstream (mail archives and many clients fold duplicates by id).
 */
public record MailRequest(
    String step,
    MailServerRef server,
    String from,
    List<String> to,
    String subject,
    String body,
    String messageId,
    boolean dryRun) {}

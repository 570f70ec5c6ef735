package dev.crewchief.atmosphere;

import dev.crewchief.activities.MailServerRef;
import java.time.Duration;
import java.util.List;

/**
 * The maintenance notice: e-mailed to the users list {@code lead} before the window (two weeks in
 * the runbook) and at the latest two working days before it; and, when {@code statusPageUrl} is
 * set, the window posted to the status page (auth header as a secret reference).
 */
public record NoticePlan(
    MailServerRef server,
    String from,
    List<String> to,
    Duration lead,
    String statusPageUrl,
    String statusPageAuthRef) {}

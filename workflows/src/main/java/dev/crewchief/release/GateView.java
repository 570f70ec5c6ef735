package dev.crewchief.release;

import java.time.Instant;
import java.util.List;

/**
 * A gate as shown by {@code status} and the report. {@code refusals} lists decisions that were
 * refused (for example a Web UI signal from someone not allowed), so a refusal is visible.
 */
public record GateView(
    String name,
    String description,
    List<String> allowed,
    GateStatus status,
    String decidedBy,
    Instant decidedAt,
    String comment,
    String via,
    List<String> refusals) {}

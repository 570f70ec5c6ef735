package dev.crewchief.release;

/**
 * The answer to a decision sent by the CLI: accepted (the gate's view after it), or refused with
 * the reason. Refusals are answers rather than rejected updates, so that every request, refused
 * ones included, is in the release's history with what became of it.
 */
public record DecisionReply(boolean accepted, String reason, GateView gate) {}

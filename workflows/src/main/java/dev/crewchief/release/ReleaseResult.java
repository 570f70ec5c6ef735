package dev.crewchief.release;

/** What a finished release returns: what is now live, and its final progress. */
public record ReleaseResult(String summary, ReleaseProgress progress) {}

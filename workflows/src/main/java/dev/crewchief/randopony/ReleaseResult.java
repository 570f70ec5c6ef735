package dev.crewchief.randopony;

import dev.crewchief.release.ReleaseProgress;

/** What a finished RandoPony release returns: its final progress and what is now live. */
public record ReleaseResult(String summary, ReleaseProgress progress) {}

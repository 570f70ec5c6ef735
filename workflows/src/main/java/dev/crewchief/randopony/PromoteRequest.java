package dev.crewchief.randopony;

import dev.crewchief.release.ReleaseContext;

/**
 * Promote the staging release {@code context.version()} to production. {@code previousRelease} is
 * the production release whose data moves over, or null when there is none (or its data is to be
 * kept where it is): then a fresh production database is created.
 */
public record PromoteRequest(ReleaseContext context, RandoPonySite site, String previousRelease)
    implements dev.crewchief.release.ReleaseInput {}

package dev.crewchief.atmosphere;

import dev.crewchief.release.ReleaseContext;

/** A hotfix: the version's image of {@code service} swapped in with no downtime. */
public record HotfixRequest(ReleaseContext context, AtmosphereSite site, String service)
    implements dev.crewchief.release.ReleaseInput {}

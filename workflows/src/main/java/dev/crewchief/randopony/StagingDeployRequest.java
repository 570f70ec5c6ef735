package dev.crewchief.randopony;

import dev.crewchief.release.ReleaseContext;

/** Deploy the release {@code context.version()} (e.g. {@code 2014r1}) to its staging app. */
public record StagingDeployRequest(ReleaseContext context, RandoPonySite site)
    implements dev.crewchief.release.ReleaseInput {}

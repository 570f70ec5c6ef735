package dev.crewchief.metaspace;

import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseInput;

/**
 * A METASPACE release: its version (checked against the review's next version), the bump asked for
 * ({@code patch}, {@code minor}, or null: the review decides) and the strategy asked for (null: the
 * review's recommendation; the strategy gate confirms either).
 */
public record MetaspaceRequest(
    ReleaseContext context, String bump, String strategy, MetaspaceSite site)
    implements ReleaseInput {}

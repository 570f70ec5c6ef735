package dev.crewchief.encode;

import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseInput;

/**
 * An ENCODE release: version {@code XX} (tag {@code vXX.0}), the old version {@code YY} whose logs
 * are kept, and the release type: {@code clustered} or a single {@code candidate} (both switch
 * production over), or a single {@code test} or {@code demo} server (deployed only).
 */
public record EncodeRequest(ReleaseContext context, String type, String oldVersion, EncodeSite site)
    implements ReleaseInput {}

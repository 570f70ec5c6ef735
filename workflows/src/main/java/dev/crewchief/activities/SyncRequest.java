package dev.crewchief.activities;

import java.util.List;

/**
 * Upload a directory of the worker's machine to a host, sending only files whose content changed
 * (compared by SHA-256). {@code excludes} are patterns of paths to skip, such as {@code .git} or
 * {@code *.pyc}: a pattern without a slash matches any path segment ({@code *} and {@code ?} as in
 * the shell), one with a slash the path from the directory's top (and what is under it).
 *
 * <p>With {@code delete}, the host's copy mirrors the source as {@code rsync --delete} does: a file
 * on the host that the source no longer has is deleted, unless it matches {@code excludes} or
 * {@code protect} (the app's databases, logs and the like, which are neither uploaded nor deleted).
 * {@code required} is checked before anything else, in a rehearsal too: a source without one of
 * them is refused and nothing is uploaded. Histories recorded before these fields existed read them
 * as false and null: upload only, nothing required.
 */
public record SyncRequest(
    String step,
    HostRef host,
    String localDir,
    String remoteDir,
    List<String> excludes,
    boolean dryRun,
    boolean delete,
    List<String> protect,
    List<SourceRequirement> required) {

  /** Upload what changed, deleting nothing, requiring nothing. */
  public SyncRequest(
      String step,
      HostRef host,
      String localDir,
      String remoteDir,
      List<String> excludes,
      boolean dryRun) {
    this(step, host, localDir, remoteDir, excludes, dryRun, false, null, null);
  }
}

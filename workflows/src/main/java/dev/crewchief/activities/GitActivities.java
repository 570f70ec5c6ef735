package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * Local git clones on the worker, and their remotes. Failure types: {@code GitRemoteUnreachable}
 * and {@code GitCommandFailed} (retried); {@code RepoMissing}, {@code WrongBranch}, {@code
 * BranchMissing}, {@code ChangelogMissing}, {@code ChangelogInvalid}, {@code NothingToRelease},
 * {@code ReleaseExists}, {@code TagConflict}, {@code PushRejected}, {@code WorkTreeDirty}, {@code
 * LocalCommitsAhead}, {@code ComposeFileInvalid}, {@code GitAuthFailed}, {@code GitMissing}, {@code
 * InvalidInput} (not retryable; the message says what to change).
 */
@ActivityInterface
public interface GitActivities {
  /**
   * Cut a release: move the changelog's Unreleased entries into a section for the version, commit,
   * tag and (optionally) push the branch and the tag. The clone must be on the repository's branch.
   * Then verify: the tag names the commit, and after a push the remote has both. Idempotent: when
   * the tag already names HEAD or the commit that made the release section, nothing is done again
   * (a push still completes); a release section with an empty Unreleased section and no tag yet is
   * tagged without a new commit. A tag of that name on any other commit, locally or on the remote,
   * is a {@code TagConflict}. A dry run reads the clone and the changelog only (not the remote).
   */
  @ActivityMethod(name = "Git.cutRelease")
  ReleaseCut cutRelease(CutReleaseRequest request);

  /**
   * Fetch, check out the branch and hard-reset it to its upstream, then verify that HEAD is the
   * upstream commit; the output is that commit. Refused when the work tree has changes or untracked
   * files ({@code WorkTreeDirty}) or when the branch has commits its upstream lacks ({@code
   * LocalCommitsAhead}): a reset would lose them. Idempotent: a clone already there is left alone.
   */
  @ActivityMethod(name = "Git.checkoutBranch")
  ActionResult checkoutBranch(CheckoutRequest request);

  /**
   * Set the {@code image:} of services in a compose file of a clone (the runbook's "edit
   * docker-compose.prod.yml to use image tags from the new release"), keeping the file's comments
   * and layout, then verify by reading the file back as YAML. Not committed. Idempotent: services
   * already on the image are left alone. {@code ComposeFileInvalid} (not retryable) when the file
   * is missing, is not YAML, lacks a service or its image, or sets the image through a variable.
   */
  @ActivityMethod(name = "Git.setImageTags")
  ImageTagsResult setImageTags(ImageTagsRequest request);

  /**
   * Read the {@code image:} of the request's services as the compose file names them now (its
   * {@code previous}); the request's images are only checked for form. Changes nothing, so a dry
   * run reads too. Same failures as {@link #setImageTags}.
   */
  @ActivityMethod(name = "Git.readImageTags")
  ImageTagsResult readImageTags(ImageTagsRequest request);

  /** The changes since the last release, for the review; changes nothing (a dry run reads too). */
  @ActivityMethod(name = "Git.reviewChanges")
  ChangeReview reviewChanges(ReviewRequest request);

  /** Merge the release branch into the main branch, fast-forward it to the main branch, push. */
  @ActivityMethod(name = "Git.syncReleaseBranches")
  BranchSync syncReleaseBranches(BranchSyncRequest request);

  /** An annotated release tag with its notes, pushed and verified. */
  @ActivityMethod(name = "Git.tagRelease")
  ActionResult tagRelease(TagRequest request);

  /**
   * A file as committed at a ref (the index definition of the version being released, say): read
   * only, so a dry run reads too. {@code FileMissing} (not retryable) when the ref lacks it.
   */
  @ActivityMethod(name = "Git.readFile")
  FileContent readFile(FileRequest request);
}

package dev.crewchief.adapters.git;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.BranchSync;
import dev.crewchief.activities.BranchSyncRequest;
import dev.crewchief.activities.ChangeReview;
import dev.crewchief.activities.CheckoutRequest;
import dev.crewchief.activities.CutReleaseRequest;
import dev.crewchief.activities.FileContent;
import dev.crewchief.activities.FileRequest;
import dev.crewchief.activities.GitActivities;
import dev.crewchief.activities.ImageTagsRequest;
import dev.crewchief.activities.ImageTagsResult;
import dev.crewchief.activities.ReleaseCut;
import dev.crewchief.activities.ReviewRequest;
import dev.crewchief.activities.TagRequest;
import dev.crewchief.adapters.compose.ComposeFiles;

/**
 * {@link GitActivities} with the git command-line tool (see {@link GitCli} for why), on the clones
 * of this worker ({@link GitClones}). This class only routes each activity to the class of its
 * concern: {@link ReleaseCuts}, {@link BranchCheckouts}, for a release's branches and tag {@link
 * ChangeReviews}, {@link ReleaseBranches} and {@link ReleaseTags}, and, for the compose file in a
 * clone, {@link ComposeFiles}. The activity names and their inputs and outputs are fixed by the
 * interface, because running workflow histories hold them.
 */
public final class GitActivitiesImpl implements GitActivities {
  private final ReleaseCuts releases;
  private final BranchCheckouts checkouts;
  private final ComposeFiles composeFiles;
  private final ChangeReviews reviews;
  private final ReleaseBranches branches;
  private final ReleaseTags tags;
  private final CommittedFiles files;

  /** The adapter on the clones of this worker, with git run as {@code git} says. */
  public GitActivitiesImpl(GitCli git) {
    this(git, new GitClones(git));
  }

  private GitActivitiesImpl(GitCli git, GitClones clones) {
    this(git, clones, new Remotes(git, clones));
  }

  private GitActivitiesImpl(GitCli git, GitClones clones, Remotes remotes) {
    this(
        new ReleaseCuts(git, clones),
        new BranchCheckouts(git, clones),
        new ComposeFiles(clones),
        new ChangeReviews(git, clones, remotes),
        new ReleaseBranches(git, clones, remotes),
        new ReleaseTags(git, clones, remotes),
        new CommittedFiles(git, clones));
  }

  GitActivitiesImpl(
      ReleaseCuts releases,
      BranchCheckouts checkouts,
      ComposeFiles composeFiles,
      ChangeReviews reviews,
      ReleaseBranches branches,
      ReleaseTags tags,
      CommittedFiles files) {
    this.releases = releases;
    this.checkouts = checkouts;
    this.composeFiles = composeFiles;
    this.reviews = reviews;
    this.branches = branches;
    this.tags = tags;
    this.files = files;
  }

  @Override
  public ReleaseCut cutRelease(CutReleaseRequest r) {
    return releases.cutRelease(r);
  }

  @Override
  public ActionResult checkoutBranch(CheckoutRequest r) {
    return checkouts.checkoutBranch(r);
  }

  // Editing a compose file is no git operation, but these two activities keep their place on
  // GitActivities: their names, Git.readImageTags and Git.setImageTags, are in running workflow
  // histories. The clone the file is in is the git part, which GitClones provides.

  @Override
  public ImageTagsResult readImageTags(ImageTagsRequest r) {
    return composeFiles.readImageTags(r);
  }

  @Override
  public ImageTagsResult setImageTags(ImageTagsRequest r) {
    return composeFiles.setImageTags(r);
  }

  @Override
  public ChangeReview reviewChanges(ReviewRequest r) {
    return reviews.reviewChanges(r);
  }

  @Override
  public BranchSync syncReleaseBranches(BranchSyncRequest r) {
    return branches.syncReleaseBranches(r);
  }

  @Override
  public ActionResult tagRelease(TagRequest r) {
    return tags.tagRelease(r);
  }

  @Override
  public FileContent readFile(FileRequest r) {
    return files.readFile(r);
  }
}

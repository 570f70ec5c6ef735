package dev.crewchief.adapters.docker;

import io.temporal.failure.ApplicationFailure;
import java.util.regex.Pattern;

/**
 * An image reference, {@code [registry/]repository[:tag][@digest]}, as a person writes it in a
 * runbook or a compose file. This is the one parser of image references in the adapters: the pull
 * splits it into the name and the tag the engine API takes, deploys compare a container's image
 * with it, and the compose-file editor checks the tags it writes with it.
 *
 * <p>The parts are kept as written ({@code registry} is null when the reference names none), so
 * {@link #toString()} gives back exactly the reference that was parsed and messages quote what the
 * person wrote. {@link #normalized()} applies what an engine reads into a short name (the implied
 * {@code docker.io} registry and its {@code library/} namespace), for comparing references.
 *
 * <p>The grammar is that of the engines: a registry is a host name or address with an optional
 * port, recognised (as engines do) by a dot, a colon or the name {@code localhost} in the first
 * path component; the repository's components are lowercase letters and digits joined by {@code .},
 * {@code _}, {@code __} or runs of {@code -}; a tag is up to 128 word characters, dots and hyphens
 * not starting with either; a digest is {@code algorithm:hex}. A malformed reference is a
 * non-retryable {@code InvalidInput} failure that says what is wrong: no retry mends a typo.
 *
 * @param registry the registry host with its port, as written, or null for the default registry
 * @param repository the path within the registry, e.g. {@code cyverse/atmosphere}
 * @param tag the tag, or null
 * @param digest the content digest, e.g. {@code sha256:...}, or null
 */
public record ImageRef(String registry, String repository, String tag, String digest) {
  /** The registry engines pull short names from, and the namespace of its official images. */
  public static final String DEFAULT_REGISTRY = "docker.io";

  private static final String LEGACY_DEFAULT_REGISTRY = "index.docker.io";
  private static final String OFFICIAL_NAMESPACE = "library/";

  private static final Pattern HOST =
      Pattern.compile(
          "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
              + "|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?");
  private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  private static final Pattern DIGEST =
      Pattern.compile("[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9A-Fa-f]{32,}");

  /** Engines refuse longer names (registry and repository together). */
  private static final int MAX_NAME = 255;

  /**
   * Checks the parts, so that no malformed reference can be made by the constructor either.
   *
   * @throws ApplicationFailure {@code InvalidInput} naming the part that is wrong
   */
  public ImageRef {
    String shown = format(registry, repository, tag, digest);
    if (registry != null && !HOST.matcher(registry).matches()) {
      throw invalid(shown, "'" + registry + "' is not a registry host[:port]");
    }
    if (repository == null || repository.isEmpty()) {
      throw invalid(shown, "it names no repository");
    }
    for (String component : repository.split("/", -1)) {
      if (!COMPONENT.matcher(component).matches()) {
        throw invalid(
            shown,
            !component.equals(component.toLowerCase())
                    && COMPONENT.matcher(component.toLowerCase()).matches()
                ? "the repository '" + repository + "' must be lowercase"
                : "'"
                    + component
                    + "' is not a repository path component (lowercase letters and digits,"
                    + " joined by '.', '_', '__' or '-')");
      }
    }
    if ((registry == null ? 0 : registry.length() + 1) + repository.length() > MAX_NAME) {
      throw invalid(shown, "the name is longer than " + MAX_NAME + " characters");
    }
    if (tag != null && !TAG.matcher(tag).matches()) {
      throw invalid(
          shown,
          tag.isEmpty()
              ? "the tag after ':' is empty"
              : "'" + tag + "' is not a tag (up to 128 letters, digits, '_', '.' and '-')");
    }
    if (digest != null && !DIGEST.matcher(digest).matches()) {
      throw invalid(shown, "'" + digest + "' is not a digest (algorithm:hex, e.g. sha256:...)");
    }
  }

  /**
   * Parses a reference with or without a tag or digest.
   *
   * @throws ApplicationFailure {@code InvalidInput} when it is missing or malformed
   */
  public static ImageRef parse(String image) {
    if (image == null || image.isBlank()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "no image given: configure the image, e.g. cyverse/atmosphere:v36-1", "InvalidInput");
    }
    String ref = image.strip();
    if (ref.chars().anyMatch(Character::isWhitespace)) {
      throw ApplicationFailure.newNonRetryableFailure(
          "image '" + image + "' contains a space", "InvalidInput");
    }
    String digest = null;
    int at = ref.indexOf('@');
    if (at >= 0) {
      digest = ref.substring(at + 1);
      ref = ref.substring(0, at);
    }
    String tag = null;
    int colon = ref.lastIndexOf(':');
    if (colon > ref.lastIndexOf('/')) {
      tag = ref.substring(colon + 1);
      ref = ref.substring(0, colon);
    }
    String registry = null;
    int slash = ref.indexOf('/');
    if (slash >= 0 && isRegistry(ref.substring(0, slash))) {
      registry = ref.substring(0, slash);
      ref = ref.substring(slash + 1);
    }
    return new ImageRef(registry, ref, tag, digest);
  }

  /**
   * Parses a reference that must name its exact version, a tag or a digest: releases never deploy
   * whatever {@code latest} happens to be.
   *
   * @throws ApplicationFailure {@code InvalidInput} when it is missing, malformed or untagged
   */
  public static ImageRef parseTagged(String image) {
    ImageRef ref = parse(image);
    if (ref.tag() == null && ref.digest() == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "image '" + image + "' has no tag: name the exact version, e.g. " + ref + ":v36-1",
          "InvalidInput");
    }
    return ref;
  }

  /** Whether this is a tag an engine accepts: up to 128 word characters, dots and hyphens. */
  public static boolean isTag(String tag) {
    return tag != null && TAG.matcher(tag).matches();
  }

  /**
   * Whether two references name the same image the way an engine reads them ({@code nginx:1},
   * {@code library/nginx:1} and {@code docker.io/library/nginx:1} do). The same text is the same
   * image even when it is no reference (an engine may report an image id for a container's image);
   * otherwise a text that is no reference is not the same image as anything.
   */
  public static boolean same(String a, String b) {
    if (a == null || b == null) {
      return false;
    }
    if (a.equals(b)) {
      return true;
    }
    try {
      return parse(a).normalized().equals(parse(b).normalized());
    } catch (ApplicationFailure notAReference) {
      return false;
    }
  }

  /**
   * The reference as an engine reads it: the default registry when none is named ({@code
   * index.docker.io} being its old name), and the {@code library/} namespace of its official images
   * for a one-component repository on it. No {@code latest} tag is implied.
   */
  public ImageRef normalized() {
    String r =
        registry == null || registry.equals(LEGACY_DEFAULT_REGISTRY) ? DEFAULT_REGISTRY : registry;
    String repo =
        r.equals(DEFAULT_REGISTRY) && !repository.contains("/")
            ? OFFICIAL_NAMESPACE + repository
            : repository;
    return new ImageRef(r, repo, tag, digest);
  }

  /** The name without tag or digest, {@code [registry/]repository}, as the pull API takes it. */
  public String name() {
    return registry == null ? repository : registry + "/" + repository;
  }

  /** The reference as written: {@code [registry/]repository[:tag][@digest]}. */
  @Override
  public String toString() {
    return format(registry, repository, tag, digest);
  }

  /** Whether a reference's first path component is a registry host rather than a namespace. */
  private static boolean isRegistry(String first) {
    return first.contains(".") || first.contains(":") || first.equals("localhost");
  }

  private static String format(String registry, String repository, String tag, String digest) {
    return (registry == null ? "" : registry + "/")
        + (repository == null ? "" : repository)
        + (tag == null ? "" : ":" + tag)
        + (digest == null ? "" : "@" + digest);
  }

  private static ApplicationFailure invalid(String image, String why) {
    return ApplicationFailure.newNonRetryableFailure(
        "image '" + image + "' is not a valid image reference: " + why, "InvalidInput");
  }
}

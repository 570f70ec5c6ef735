package dev.crewchief.randopony;

import java.util.List;

/**
 * How the app's source is laid out and installed, resolved from config with its defaults (part of
 * the workflow input, so the history shows it). Paths are relative to the source directory, which
 * is the code directory on the host.
 *
 * @param distribution the name pip installs the source as (pyproject.toml's {@code [project] name},
 *     setup.py's {@code name=}), checked with {@code pip show} after the install
 * @param packageDir the app's package directory, linked into the app dir under its last name
 * @param credentialFiles files tightened to mode 400 after the upload
 * @param supervisorConf supervisor's config, given to {@code supervisord -c}
 * @param indexUrl the package index pip installs from, or null
 * @param wheelhouse the directory of wheels pip installs from ({@code --no-index --find-links}), or
 *     null; neither: the host's own pip configuration
 * @param excludes what the upload neither sends nor deletes: not part of the code
 * @param protect what the upload neither sends nor deletes: the app's data on the host
 * @param probeStatus the HTTP status of the app serving
 * @param probeText a text the app's page contains, {@code {release}} and {@code {appName}}
 *     replaced; null: the status alone
 */
public record RandoPonyLayout(
    String distribution,
    String packageDir,
    List<String> credentialFiles,
    String supervisorConf,
    String indexUrl,
    String wheelhouse,
    List<String> excludes,
    List<String> protect,
    int probeStatus,
    String probeText) {

  /** Not part of the code: never uploaded, never deleted on the host. */
  public static final List<String> DEFAULT_EXCLUDES =
      List.of(".git", ".hg", ".svn", "__pycache__", "*.pyc", "*.egg-info", "build", "dist");

  /** The app's data that may sit in the code directory: never uploaded, never deleted. */
  public static final List<String> DEFAULT_PROTECT =
      List.of("*.sqlite", "*.sqlite3", "*.db", "*.log", "*.pid", "*.sock");

  public static final String DEFAULT_SUPERVISOR_CONF = "supervisord.conf";

  /**
   * The layout of the project's own stand-in (deploy/sandbox/randopony-tetra), which every release
   * recorded before the layout was configurable had: the distribution and the package named after
   * the app, its credentials in the package, supervisord.conf at the top, the host's own index.
   */
  public static RandoPonyLayout defaults(String appName) {
    return new RandoPonyLayout(
        appName,
        appName,
        List.of(appName + "/private_credentials.py"),
        DEFAULT_SUPERVISOR_CONF,
        null,
        null,
        DEFAULT_EXCLUDES,
        DEFAULT_PROTECT,
        200,
        null);
  }

  /** The probe's text for a release, or null when the status alone is checked. */
  public String probeTextFor(String appName, String release) {
    return probeText == null
        ? null
        : probeText.replace("{appName}", appName).replace("{release}", release);
  }

  /**
   * The text any release of the app answers with, for telling "up" from "down" while a domain
   * switches between two releases: the probe's text when it names no release, else none (the status
   * alone).
   */
  public String anyReleaseText(String appName) {
    return probeText == null || probeText.contains("{release}")
        ? null
        : probeText.replace("{appName}", appName);
  }

  /** The name of the link to the package directory in the app dir. */
  public String packageLink() {
    int slash = packageDir.lastIndexOf('/');
    return slash < 0 ? packageDir : packageDir.substring(slash + 1);
  }
}

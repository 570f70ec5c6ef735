package dev.crewchief.release;

/** Quoting for the POSIX shell commands the workflows build. */
public final class Shell {
  private Shell() {}

  /** One shell word: single-quoted unless it is made of plainly safe characters. */
  public static String q(String s) {
    if (s.matches("[A-Za-z0-9_./:=@%+-]+")) {
      return s;
    }
    return "'" + s.replace("'", "'\\''") + "'";
  }
}

package dev.crewchief.activities;

/**
 * A PostgreSQL database as activities receive it. {@code passwordRef} is a secret reference ({@code
 * file:/path} or {@code env:VAR}) resolved inside the activity, so the password never enters
 * workflow history; a trailing newline of a password file is not part of the password.
 */
public record DatabaseRef(
    String name, String host, int port, String database, String user, String passwordRef) {

  public String describe() {
    return user + "@" + host + ":" + port + "/" + database;
  }
}

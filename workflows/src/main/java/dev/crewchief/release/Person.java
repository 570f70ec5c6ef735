package dev.crewchief.release;

/**
 * A person as a release knows them: where notifications reach them, and the SSH public key their
 * signed decisions are checked against. Both may be null.
 */
public record Person(String email, String publicKey) {}

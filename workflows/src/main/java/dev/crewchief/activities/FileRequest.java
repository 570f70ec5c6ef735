package dev.crewchief.activities;

/** A file of a clone as committed at {@code ref} (a tag, branch or commit), read with git. */
public record FileRequest(String step, GitRepoRef repo, String ref, String path) {}

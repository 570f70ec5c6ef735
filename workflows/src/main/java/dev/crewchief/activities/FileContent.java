package dev.crewchief.activities;

/** A committed file's text, and the commit it was read at. */
public record FileContent(String path, String commit, String text) {}

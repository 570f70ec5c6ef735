package dev.crewchief.activities;

import java.util.List;

/**
 * A path a source directory must hold before anything of it is uploaded: one of {@code anyOf}
 * (relative to the source directory; a file or a directory), and {@code what} says what it is for
 * and which setting names it, for the message that refuses a source without it.
 */
public record SourceRequirement(List<String> anyOf, String what) {}

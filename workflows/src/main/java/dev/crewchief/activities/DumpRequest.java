package dev.crewchief.activities;

/**
 * Dump {@code database} to {@code directory/fileName} on the worker. {@code directory} is an
 * absolute path (created if missing); {@code fileName} is a plain file name chosen by the workflow
 * from the release id and date, so that every attempt of the step writes the same file.
 */
public record DumpRequest(
    String step, DatabaseRef database, String directory, String fileName, boolean dryRun) {}

package dev.crewchief.adapters.ssh;

/** The outcome of one remote command. */
public record ExecResult(int exitStatus, String stdout, String stderr) {}

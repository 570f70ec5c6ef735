package dev.crewchief.activities;

import java.util.List;

/** Which of these paths exist on the host. Read-only, so it also runs in a dry run. */
public record InspectRequest(String step, HostRef host, List<String> paths, boolean dryRun) {}

package dev.crewchief.runtime;

import dev.crewchief.config.LoadedConfig;
import java.io.IOException;
import java.util.Map;

/**
 * The embedded default: a Temporal test server in this process on 127.0.0.1 (real time, no time
 * skipping) with a Crew Chief worker on it, for a first look with nothing else installed. The CLI
 * finds the implementation (in the worker module) through {@link java.util.ServiceLoader}, so the
 * CLI's code depends on the workflows module only.
 */
public interface LocalRuntime {
  Handle start(int port, LoadedConfig config, Map<String, String> env) throws IOException;

  /** The running server and worker; closing stops both. */
  interface Handle extends AutoCloseable {
    @Override
    void close();
  }
}

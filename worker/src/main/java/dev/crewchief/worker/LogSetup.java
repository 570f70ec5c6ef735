package dev.crewchief.worker;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The logging of the worker and the CLI, set up in code (found by logback through
 * META-INF/services) rather than from an XML file: reading logback.xml cost every `crewchief`
 * command 50-80 ms. To stderr, {@code HH:mm:ss.SSS LEVEL logger - message}; the root level from
 * CREWCHIEF_LOG_LEVEL (default INFO); Temporal's, gRPC's and SSH's own loggers at WARN, and the
 * embedded test server's "no worker heartbeats" at ERROR (nothing to act on). Where a logback XML
 * file is meant to be used instead (a test's logback-test.xml, or -Dlogback.configurationFile),
 * logback's own configuration runs.
 */
public final class LogSetup extends ContextAwareBase implements Configurator {

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null
        || LogSetup.class.getClassLoader().getResource("logback-test.xml") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n");
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    String level = System.getenv("CREWCHIEF_LOG_LEVEL");
    root.setLevel(Level.toLevel(level == null || level.isBlank() ? "INFO" : level, Level.INFO));
    root.addAppender(stderr);
    for (String quiet : new String[] {"io.temporal", "io.grpc", "net.schmizz", "com.hierynomus"}) {
      context.getLogger(quiet).setLevel(Level.WARN);
    }
    context.getLogger("io.temporal.internal.worker.HeartbeatManager").setLevel(Level.ERROR);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}

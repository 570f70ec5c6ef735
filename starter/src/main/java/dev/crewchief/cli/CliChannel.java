package dev.crewchief.cli;

import dev.crewchief.worker.TemporalConnection;
import io.grpc.ManagedChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The CLI's connection to Temporal: {@link TemporalConnection#open}'s settings and checks, on a
 * gRPC channel with an event-loop thread of its own that ends when the command does.
 *
 * <p>Why: gRPC's shared event loops outlive the last channel by a second, blocked in epoll, and a
 * JVM that exits while a thread is in native code waits 300 ms for it first. That wait was a third
 * of a `crewchief status`; with this channel the JVM exits at once.
 */
final class CliChannel {
  private NioEventLoopGroup group;

  /**
   * Connects and checks that the server answers and has the namespace: {@link
   * TemporalConnection#open}, with the same refusals, on this channel's own event loop.
   */
  WorkflowServiceStubs open(TemporalConnection connection) {
    group =
        new NioEventLoopGroup(
            1,
            r -> {
              Thread t = new Thread(r, "crewchief-grpc");
              t.setDaemon(true);
              return t;
            });
    try {
      return connection.open(
          options -> {
            Consumer<ManagedChannelBuilder<?>> before = options.build().getChannelInitializer();
            options.setChannelInitializer(
                b -> {
                  if (before != null) {
                    before.accept(b);
                  }
                  ((NettyChannelBuilder) b)
                      .eventLoopGroup(group)
                      .channelType(NioSocketChannel.class);
                });
          });
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw e;
    }
  }

  /** Closes the channel and ends its thread, so that nothing keeps the JVM's exit waiting. */
  void close(WorkflowServiceStubs stubs) {
    stubs.shutdown();
    if (!stubs.awaitTermination(500, TimeUnit.MILLISECONDS)) {
      stubs.shutdownNow();
      stubs.awaitTermination(500, TimeUnit.MILLISECONDS);
    }
    if (group != null) {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).awaitUninterruptibly(1000);
    }
  }
}

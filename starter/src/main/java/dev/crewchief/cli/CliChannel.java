package dev.crewchief.cli;

import dev.crewchief.config.ConfigException;
import dev.crewchief.worker.TemporalConnection;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.temporal.api.enums.v1.NamespaceState;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
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
   * Connects and checks that the server answers and has the namespace, as {@link
   * TemporalConnection#open} does, with the same refusals.
   */
  WorkflowServiceStubs open(TemporalConnection connection) {
    // The host and the TLS files are checked, and the options read from the settings, as for the
    // worker; that channel is never used.
    WorkflowServiceStubs configured = connection.connect();
    WorkflowServiceStubsOptions options = configured.getOptions();
    configured.shutdownNow();
    group =
        new NioEventLoopGroup(
            1,
            r -> {
              Thread t = new Thread(r, "crewchief-grpc");
              t.setDaemon(true);
              return t;
            });
    Consumer<ManagedChannelBuilder<?>> before = options.getChannelInitializer();
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder(options)
                .setChannelInitializer(
                    b -> {
                      if (before != null) {
                        before.accept(b);
                      }
                      ((NettyChannelBuilder) b)
                          .eventLoopGroup(group)
                          .channelType(NioSocketChannel.class);
                    })
                .build());
    try {
      try {
        stubs.blockingStub().getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
      } catch (StatusRuntimeException e) {
        throw new ConfigException(connection.unreachable(e));
      }
      checkNamespace(connection, stubs);
      return stubs;
    } catch (RuntimeException e) {
      close(stubs);
      throw e;
    }
  }

  /** {@link TemporalConnection}'s check of the namespace, with its words. */
  private static void checkNamespace(TemporalConnection c, WorkflowServiceStubs stubs) {
    String ns = c.namespace();
    boolean missing;
    try {
      var d =
          stubs
              .blockingStub()
              .describeNamespace(DescribeNamespaceRequest.newBuilder().setNamespace(ns).build());
      missing = d.getNamespaceInfo().getState() == NamespaceState.NAMESPACE_STATE_DELETED;
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      if (code == Status.Code.PERMISSION_DENIED || code == Status.Code.UNIMPLEMENTED) {
        return; // a server that does not tell this client (Cloud API keys of some roles)
      }
      if (code != Status.Code.NOT_FOUND) {
        throw new ConfigException(c.unreachable(e));
      }
      missing = true;
    }
    if (missing) {
      throw new ConfigException(
          "namespace '"
              + ns
              + "' does not exist on Temporal at "
              + c.target()
              + " (chosen by "
              + c.namespaceSetting()
              + "): create it with `temporal operator namespace create --namespace "
              + ns
              + " --address "
              + c.target()
              + "`, or set "
              + (c.namespaceSetting().startsWith("the default")
                  ? "TEMPORAL_NAMESPACE"
                  : c.namespaceSetting())
              + " to a namespace that exists (`temporal operator namespace list`)");
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

package dev.crewchief.worker;

import dev.crewchief.config.LoadedConfig;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.internal.testservice.TestServicesStarter;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default: Temporal's test server on 127.0.0.1 only (its own port-bound starter
 * listens on every interface, so the services are bound here by hand) with real time, and a worker
 * on it. Everything lives in memory and ends with the process.
 */
public final class EmbeddedRuntime {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedRuntime.class);

  private EmbeddedRuntime() {}

  /** The running server and worker; closing stops both. */
  public interface Handle extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Starts the server and a worker polling in the namespace the client side uses (the test server
   * takes any name), so that TEMPORAL_NAMESPACE without an address still finds its worker.
   */
  public static Handle start(
      int port, String namespace, LoadedConfig config, Map<String, String> env) throws IOException {
    EmbeddedServer server = EmbeddedServer.start(port);
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + port).build());
    WorkflowClient client =
        WorkflowClient.newInstance(
            stubs, WorkflowClientOptions.newBuilder().setNamespace(namespace).build());
    CrewChiefWorker worker = CrewChiefWorker.start(client, config, env);
    log.info("embedded Temporal server and worker on 127.0.0.1:{}", port);
    return () -> {
      worker.close();
      stubs.shutdown();
      server.close();
    };
  }

  /** The test server's services on a loopback-only gRPC server. */
  public static final class EmbeddedServer implements AutoCloseable {
    private final TestServicesStarter services;
    private final Server grpc;

    private EmbeddedServer(TestServicesStarter services, Server grpc) {
      this.services = services;
      this.grpc = grpc;
    }

    public static EmbeddedServer start(int port) throws IOException {
      // true: lock time skipping, so timers take real time as in production.
      TestServicesStarter services = new TestServicesStarter(true, 0);
      NettyServerBuilder b =
          NettyServerBuilder.forAddress(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      for (BindableService s : services.getServices()) {
        b.addService(s);
      }
      Server grpc = b.build().start();
      return new EmbeddedServer(services, grpc);
    }

    public int port() {
      return grpc.getPort();
    }

    @Override
    public void close() {
      grpc.shutdownNow();
      try {
        grpc.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      services.close();
    }
  }
}

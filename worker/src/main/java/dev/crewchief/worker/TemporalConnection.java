package dev.crewchief.worker;

import dev.crewchief.config.ConfigException;
import dev.crewchief.release.SearchAttributes;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.operatorservice.v1.AddSearchAttributesRequest;
import io.temporal.api.operatorservice.v1.ListSearchAttributesRequest;
import io.temporal.api.operatorservice.v1.ListSearchAttributesResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.common.SearchAttributeKey;
import io.temporal.envconfig.ClientConfigProfile;
import io.temporal.envconfig.LoadClientConfigProfileOptions;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.OperatorServiceStubsOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How the worker and the CLI reach Temporal: Temporal's own environment configuration
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE and the
 * temporal.toml config file), read by the SDK's envconfig module.
 */
public final class TemporalConnection {
  /** Where the embedded default listens when no address is configured. */
  public static final String EMBEDDED_TARGET = "127.0.0.1:7233";

  private final ClientConfigProfile profile;

  private TemporalConnection(ClientConfigProfile profile) {
    this.profile = profile;
  }

  public static TemporalConnection fromEnvironment(Map<String, String> env) {
    try {
      return new TemporalConnection(
          ClientConfigProfile.load(
              LoadClientConfigProfileOptions.newBuilder().setEnvOverrides(env).build()));
    } catch (IOException | RuntimeException e) {
      throw new ConfigException(
          "Temporal client configuration (TEMPORAL_* variables or temporal.toml) is invalid: "
              + e.getMessage(),
          e);
    }
  }

  /** True when an address is configured; otherwise the embedded default applies. */
  public boolean addressConfigured() {
    return profile.getAddress() != null && !profile.getAddress().isBlank();
  }

  public String target() {
    return addressConfigured() ? profile.getAddress() : EMBEDDED_TARGET;
  }

  public String namespace() {
    return profile.getNamespace() == null || profile.getNamespace().isBlank()
        ? "default"
        : profile.getNamespace();
  }

  public WorkflowServiceStubs connect() {
    WorkflowServiceStubsOptions.Builder b =
        WorkflowServiceStubsOptions.newBuilder(profile.toWorkflowServiceStubsOptions())
            .setTarget(target())
            .setRpcTimeout(Duration.ofSeconds(10));
    return WorkflowServiceStubs.newServiceStubs(b.build());
  }

  public WorkflowClient client(WorkflowServiceStubs stubs) {
    WorkflowClientOptions options =
        WorkflowClientOptions.newBuilder(profile.toWorkflowClientOptions())
            .setNamespace(namespace())
            .setIdentity("crewchief@" + hostName())
            .build();
    return WorkflowClient.newInstance(stubs, options);
  }

  /**
   * The Crew Chief search attributes registered on the server, or none where the server cannot tell
   * (the embedded test server, a Cloud namespace without operator rights).
   */
  public static List<String> registeredSearchAttributes(
      WorkflowServiceStubs stubs, String namespace) {
    List<String> names = new ArrayList<>();
    try {
      OperatorServiceStubs op =
          OperatorServiceStubs.newServiceStubs(
              OperatorServiceStubsOptions.newBuilder()
                  .setChannel(stubs.getRawChannel())
                  .validateAndBuildWithDefaults());
      ListSearchAttributesResponse r =
          op.blockingStub()
              .listSearchAttributes(
                  ListSearchAttributesRequest.newBuilder().setNamespace(namespace).build());
      for (SearchAttributeKey<String> key : SearchAttributes.ALL) {
        if (r.getCustomAttributesMap().containsKey(key.getName())) {
          names.add(key.getName());
        }
      }
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED
          && e.getStatus().getCode() != Status.Code.PERMISSION_DENIED) {
        throw e;
      }
    }
    return names;
  }

  /** Registers the Crew Chief search attributes (Keyword) where missing. */
  public static void registerSearchAttributes(WorkflowServiceStubs stubs, String namespace) {
    List<String> present = registeredSearchAttributes(stubs, namespace);
    AddSearchAttributesRequest.Builder req =
        AddSearchAttributesRequest.newBuilder().setNamespace(namespace);
    for (SearchAttributeKey<String> key : SearchAttributes.ALL) {
      if (!present.contains(key.getName())) {
        req.putSearchAttributes(key.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
      }
    }
    if (req.getSearchAttributesCount() == 0) {
      return;
    }
    OperatorServiceStubs op =
        OperatorServiceStubs.newServiceStubs(
            OperatorServiceStubsOptions.newBuilder()
                .setChannel(stubs.getRawChannel())
                .validateAndBuildWithDefaults());
    op.blockingStub().addSearchAttributes(req.build());
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }
}

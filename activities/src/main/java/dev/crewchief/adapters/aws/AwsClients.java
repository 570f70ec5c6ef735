package dev.crewchief.adapters.aws;

import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.failure.ApplicationFailure;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * The AWS SDK clients of this worker: one per (service, region, endpoint, credential references),
 * built on first use and kept until {@link #close()} (the worker closes it at shutdown). All share
 * one pooled HTTP client, so the adapters of every AWS service reuse connections.
 *
 * <p>Credentials: both references null means the worker's default chain (instance profile,
 * environment, {@code ~/.aws}); otherwise both are secret references, resolved with the {@link
 * SecretResolver} on every {@link #client} call, so that a rotated secret file is used from the
 * next activity on without rebuilding the client, and a reference that does not resolve fails the
 * activity with {@code SecretUnresolved} before any request is made.
 */
public final class AwsClients implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AwsClients.class);
  private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-[0-9]+");

  /**
   * Where and as whom, for any AWS service: {@code endpoint} null for AWS itself; {@code
   * accessKeyRef}/{@code secretKeyRef} secret references, both null for the default chain.
   */
  public record Target(String region, String endpoint, String accessKeyRef, String secretKeyRef) {
    /** "us-east-1 at http://127.0.0.1:5000 as &lt;env:AWS_KEY&gt;", for messages and actions. */
    public String describe() {
      return region
          + (endpoint == null || endpoint.isBlank() ? "" : " at " + endpoint)
          + (accessKeyRef == null ? "" : " as <" + accessKeyRef + ">");
    }
  }

  private record Key(
      String service, String region, String endpoint, String accessKeyRef, String secretKeyRef) {}

  /** A built client and, for referenced credentials, the holder it signs with. */
  private record Entry(SdkClient client, AtomicReference<AwsCredentials> credentials) {}

  private final SecretResolver secrets;
  private final SdkHttpClient http;
  private final Duration apiCallTimeout;
  private final Map<Key, Entry> clients = new ConcurrentHashMap<>();
  // Built on first use only: building it looks at the environment and files of the default chain.
  private volatile DefaultCredentialsProvider defaultChain;

  /**
   * @param connectTimeout how long to wait for a connection to an endpoint
   * @param apiCallTimeout the longest one API call may take, the SDK's own retries included
   */
  public AwsClients(SecretResolver secrets, Duration connectTimeout, Duration apiCallTimeout) {
    this.secrets = secrets;
    this.apiCallTimeout = apiCallTimeout;
    this.http =
        ApacheHttpClient.builder()
            .connectionTimeout(connectTimeout)
            .socketTimeout(apiCallTimeout)
            .maxConnections(50)
            .build();
  }

  /** Connect within 10 s; one API call (with the SDK's retries) within 2 minutes. */
  public AwsClients(SecretResolver secrets) {
    this(secrets, Duration.ofSeconds(10), Duration.ofMinutes(2));
  }

  /** The EC2 client for this target. */
  public Ec2Client ec2(Target target) {
    return client("ec2", target, Ec2Client::builder);
  }

  /** The IAM client for this target. */
  public IamClient iam(Target target) {
    return client("iam", target, IamClient::builder);
  }

  /** The STS client for this target. */
  public StsClient sts(Target target) {
    return client("sts", target, StsClient::builder);
  }

  /**
   * The S3 client for this target; path-style addressing for an endpoint of its own (a test server
   * on an IP address has no bucket subdomains).
   */
  public S3Client s3(Target target) {
    boolean pathStyle = target != null && target.endpoint() != null && !target.endpoint().isBlank();
    return client(
        pathStyle ? "s3-path" : "s3", target, () -> S3Client.builder().forcePathStyle(pathStyle));
  }

  /**
   * A new STS client of this target's region and endpoint that signs with {@code credentials}
   * instead of the target's: for checking a key found elsewhere (a host's credentials file). Not
   * kept (the key is not a reference, and must not be a map key); the caller closes it, which
   * leaves the shared HTTP client open.
   */
  public StsClient stsWith(Target target, AwsCredentials credentials) {
    URI endpoint = validate(target);
    var b =
        StsClient.builder()
            .region(Region.of(target.region()))
            .credentialsProvider(() -> credentials)
            .httpClient(http)
            .overrideConfiguration(
                ClientOverrideConfiguration.builder().apiCallTimeout(apiCallTimeout).build());
    if (endpoint != null) {
      b.endpointOverride(endpoint);
    }
    return b.build();
  }

  /**
   * The client of {@code service} for this target, built with {@code builder} on first use; for the
   * next AWS adapters: {@code client("iam", target, IamClient::builder)}.
   *
   * @throws ApplicationFailure {@code InvalidInput} for a malformed target, {@code
   *     SecretUnresolved} for credentials that do not resolve (neither retryable)
   */
  public <B extends AwsClientBuilder<B, C> & AwsSyncClientBuilder<B, C>, C extends SdkClient>
      C client(String service, Target target, Supplier<B> builder) {
    URI endpoint = validate(target);
    AwsCredentials resolved = resolve(target);
    Key key =
        new Key(
            service,
            target.region(),
            endpoint == null ? null : endpoint.toString(),
            target.accessKeyRef(),
            target.secretKeyRef());
    Entry e = clients.computeIfAbsent(key, k -> build(k, endpoint, resolved, builder));
    if (resolved != null) {
      e.credentials().set(resolved);
    }
    @SuppressWarnings("unchecked")
    C client = (C) e.client();
    return client;
  }

  /**
   * What a rehearsal checks without a request: the target is well formed and its credential
   * references resolve on this worker.
   */
  public void rehearse(Target target) {
    validate(target);
    resolve(target);
  }

  private <B extends AwsClientBuilder<B, C> & AwsSyncClientBuilder<B, C>, C extends SdkClient>
      Entry build(Key key, URI endpoint, AwsCredentials resolved, Supplier<B> builder) {
    AtomicReference<AwsCredentials> holder = resolved == null ? null : new AtomicReference<>();
    AwsCredentialsProvider provider =
        holder == null ? defaultChain() : holder::get; // set by client() right after the build
    B b =
        builder
            .get()
            .region(Region.of(key.region()))
            .credentialsProvider(provider)
            .httpClient(http)
            .overrideConfiguration(
                ClientOverrideConfiguration.builder().apiCallTimeout(apiCallTimeout).build());
    if (endpoint != null) {
      b.endpointOverride(endpoint);
    }
    log.info(
        "AWS {} client for {}{}{}",
        key.service(),
        key.region(),
        endpoint == null ? "" : " at " + endpoint,
        holder == null ? " (default credentials chain)" : " as <" + key.accessKeyRef() + ">");
    if (holder != null) {
      holder.set(resolved);
    }
    return new Entry(b.build(), holder);
  }

  private DefaultCredentialsProvider defaultChain() {
    DefaultCredentialsProvider p = defaultChain;
    if (p == null) {
      synchronized (this) {
        if (defaultChain == null) {
          defaultChain = DefaultCredentialsProvider.builder().build();
        }
        p = defaultChain;
      }
    }
    return p;
  }

  /** The referenced credentials, or null for the default chain. */
  private AwsCredentials resolve(Target t) {
    if (t.accessKeyRef() == null && t.secretKeyRef() == null) {
      return null;
    }
    String id = secrets.resolve(t.accessKeyRef(), "the AWS access key id").strip();
    String secret = secrets.resolve(t.secretKeyRef(), "the AWS secret access key").strip();
    return AwsBasicCredentials.create(id, secret);
  }

  /** Checks the target; returns its endpoint, or null for AWS itself. */
  static URI validate(Target t) {
    if (t == null || t.region() == null || !REGION.matcher(t.region()).matches()) {
      throw invalid(
          "AWS region '"
              + (t == null ? null : t.region())
              + "' is not a region name such as eu-west-1: configure aws.region");
    }
    if ((t.accessKeyRef() == null) != (t.secretKeyRef() == null)) {
      throw invalid(
          "configure both aws.accessKeyRef and aws.secretKeyRef, or neither for the worker's"
              + " default credentials chain");
    }
    for (String ref : new String[] {t.accessKeyRef(), t.secretKeyRef()}) {
      if (ref != null && !SecretResolver.wellFormed(ref)) {
        // Not repeated: what is pasted here instead of a reference is often the key itself.
        throw invalid(
            "an AWS credential reference is not of the form file:/path or env:NAME: configure a"
                + " reference, never the key itself");
      }
    }
    if (t.endpoint() == null || t.endpoint().isBlank()) {
      return null;
    }
    URI uri;
    try {
      uri = new URI(t.endpoint().strip());
    } catch (URISyntaxException e) {
      throw invalid("AWS endpoint '" + t.endpoint() + "' is not a URL: " + e.getReason());
    }
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())
        || uri.getHost() == null
        || uri.getRawUserInfo() != null) {
      throw invalid(
          "AWS endpoint '"
              + (uri.getRawUserInfo() != null ? "(has user info, not shown)" : t.endpoint())
              + "' must be an http(s) URL with a host and without credentials, such as"
              + " http://127.0.0.1:5000");
    }
    return uri;
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }

  /** Closes every client, the default chain and the shared HTTP client. */
  @Override
  public void close() {
    List<RuntimeException> problems = new ArrayList<>();
    for (Entry e : clients.values()) {
      try {
        e.client().close();
      } catch (RuntimeException ex) {
        problems.add(ex);
      }
    }
    clients.clear();
    DefaultCredentialsProvider chain = defaultChain;
    if (chain != null) {
      chain.close();
    }
    http.close();
    for (RuntimeException p : problems) {
      log.warn("closing an AWS client failed: {}", p.toString());
    }
  }
}

package dev.crewchief.adapters.elasticsearch;

import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch._types.ErrorCause;
import co.elastic.clients.transport.TransportException;
import dev.crewchief.activities.ElasticsearchActivities.Cluster;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import org.elasticsearch.client.ResponseException;

/**
 * Turns what elasticsearch-java throws into the failure types of {@link
 * dev.crewchief.activities.ElasticsearchActivities}.
 *
 * <p>The client reports failures three ways: an {@link ElasticsearchException} for an error answer
 * with Elasticsearch's JSON error body (the client asks the server to hand 400, 401, 403, 404 and
 * 405 back as answers), a {@link ResponseException} of the low-level client for other error
 * statuses (429, 5xx: the server's body is in its message), a {@link TransportException} for an
 * answer that is not Elasticsearch's (a proxy's HTML page, a missing product header), and plain
 * {@link IOException}s for the connection. Only what a later attempt can get past is retryable: the
 * connection, 429 and 5xx.
 */
final class EsFailures {
  static final String UNREACHABLE = "ElasticsearchUnreachable";
  static final String AUTH_FAILED = "ElasticsearchAuthFailed";
  static final String INDEX_MISSING = "IndexMissing";
  static final String INDEX_EXISTS = "IndexExists";
  static final String INDEX_SERVING = "IndexServing";
  static final String ALIAS_CONFLICT = "AliasConflict";
  static final String REINDEX_FAILED = "ReindexFailed";
  static final String INVALID_INPUT = "InvalidInput";

  private static final int TAIL = 400;

  private EsFailures() {}

  /** The failure for {@code e}, raised while doing {@code what} (such as "create index x"). */
  static ApplicationFailure of(Exception e, String what, Cluster cluster) {
    String where = what + " on " + cluster.describe();
    if (e instanceof ElasticsearchException ee) {
      ErrorCause cause = ee.error();
      String type = cause == null ? null : cause.type();
      String reason = cause == null ? ee.getMessage() : cause.reason();
      return byStatus(ee.status(), type, where + ": " + type + ": " + reason, cluster);
    }
    if (e instanceof ResponseException re) {
      int status = re.getResponse().getStatusLine().getStatusCode();
      return byStatus(status, null, where + ": " + tail(re.getMessage()), cluster);
    }
    if (e instanceof TransportException te) {
      int status = te.statusCode();
      if (status == 401 || status == 403 || status == 429 || status >= 500) {
        return byStatus(status, null, where + ": " + tail(te.getMessage()), cluster);
      }
      // An answer, but not one Elasticsearch 7.17 or 8 gives: another service at that URL, a
      // proxy that strips headers, or a server version the client does not read.
      return ApplicationFailure.newNonRetryableFailure(
          where
              + ": the answer is not one of Elasticsearch 7.17 or 8.x ("
              + tail(te.getMessage())
              + "): check the cluster's url",
          INVALID_INPUT);
    }
    if (e instanceof IOException) {
      return ApplicationFailure.newFailure(
          "cannot reach "
              + cluster.describe()
              + " to "
              + what
              + ": "
              + e.getClass().getSimpleName()
              + " "
              + e.getMessage(),
          UNREACHABLE);
    }
    if (e instanceof IllegalStateException && String.valueOf(e.getMessage()).contains("reactor")) {
      // The low-level client's I/O reactor stopped (the worker is shutting down, or it died).
      return ApplicationFailure.newFailure(
          "the client of " + cluster.describe() + " is closed: " + e.getMessage(), UNREACHABLE);
    }
    return ApplicationFailure.newFailure(
        where + ": " + e.getClass().getSimpleName() + " " + e.getMessage(), UNREACHABLE);
  }

  /** Whether {@code e} is an error answer of Elasticsearch with this status and error type. */
  static boolean is(Exception e, int status, String type) {
    return e instanceof ElasticsearchException ee
        && ee.status() == status
        && ee.error() != null
        && type.equals(ee.error().type());
  }

  /** The HTTP status of an error answer, or 0 for a failure without one. */
  static int status(Exception e) {
    if (e instanceof ElasticsearchException ee) {
      return ee.status();
    }
    if (e instanceof ResponseException re) {
      return re.getResponse().getStatusLine().getStatusCode();
    }
    if (e instanceof TransportException te) {
      return te.statusCode();
    }
    return 0;
  }

  private static ApplicationFailure byStatus(
      int status, String type, String message, Cluster cluster) {
    if (status == 429 || status >= 500) {
      return ApplicationFailure.newFailure(
          message + " (status " + status + ", tried again later)", UNREACHABLE);
    }
    boolean blocked = "cluster_block_exception".equals(type);
    if (status == 401 || status == 403 && !blocked) {
      return ApplicationFailure.newNonRetryableFailure(
          message
              + " (status "
              + status
              + "): "
              + (cluster.authRef() == null
                  ? "the cluster wants credentials: configure authRef (a secret reference to the"
                      + " whole Authorization header value)"
                  : "check the Authorization value in "
                      + cluster.authRef()
                      + " and the privileges of its user or API key"),
          AUTH_FAILED);
    }
    if ("index_not_found_exception".equals(type)) {
      return ApplicationFailure.newNonRetryableFailure(message, INDEX_MISSING);
    }
    if ("resource_already_exists_exception".equals(type)) {
      return ApplicationFailure.newNonRetryableFailure(message, INDEX_EXISTS);
    }
    return ApplicationFailure.newNonRetryableFailure(
        message + " (status " + status + "): change the request or the cluster's state",
        INVALID_INPUT);
  }

  private static String tail(String s) {
    String t = s == null ? "" : s.replaceAll("\\s+", " ").strip();
    return t.length() <= TAIL ? t : t.substring(0, TAIL) + "...";
  }
}

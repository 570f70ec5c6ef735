package dev.crewchief.adapters.aws;

import io.temporal.failure.ApplicationFailure;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * The failure types every AWS adapter shares, from what the SDK throws (after its own retries):
 * {@code AwsUnreachable} (no answer, or a 5xx) and {@code AwsThrottled}, both retried; {@code
 * AwsAuthFailed} and {@code AwsRequestRefused} (any other client error, with AWS's code and
 * message), not retried. Service-specific codes (a missing instance, bucket...) are mapped by each
 * adapter before it falls back on {@link #of}.
 */
public final class AwsFailures {
  // Codes AWS services answer for credentials that are wrong, expired or lack a permission.
  private static final Set<String> AUTH =
      Set.of(
          "AuthFailure",
          "UnauthorizedOperation",
          "InvalidClientTokenId",
          "InvalidAccessKeyId",
          "SignatureDoesNotMatch",
          "ExpiredToken",
          "ExpiredTokenException",
          "AccessDenied",
          "AccessDeniedException",
          "UnrecognizedClientException",
          "InvalidToken");
  // EC2 says RequestLimitExceeded; the SDK knows most others by itself.
  private static final Set<String> THROTTLED =
      Set.of("RequestLimitExceeded", "Throttling", "ThrottlingException", "SlowDown");

  private AwsFailures() {}

  /** AWS's error code, or null when the failure is not an answer from AWS. */
  public static String code(SdkException e) {
    return e instanceof AwsServiceException a && a.awsErrorDetails() != null
        ? a.awsErrorDetails().errorCode()
        : null;
  }

  /** AWS's error message without the SDK's decorations (request id, status). */
  public static String message(SdkException e) {
    if (e instanceof AwsServiceException a
        && a.awsErrorDetails() != null
        && a.awsErrorDetails().errorMessage() != null) {
      return a.awsErrorDetails().errorMessage();
    }
    return String.valueOf(e.getMessage());
  }

  /**
   * The failure for {@code e}, raised while doing {@code what} ("EC2 DescribeInstances i-0abc")
   * against {@code target}.
   */
  public static ApplicationFailure of(SdkException e, String what, AwsClients.Target target) {
    String where = target.describe();
    if (e instanceof AwsServiceException a) {
      String code = code(e);
      if (a.isThrottlingException() || (code != null && THROTTLED.contains(code))) {
        return ApplicationFailure.newFailureWithCause(
            what + " throttled by AWS (" + where + "): " + code + ", try again later",
            "AwsThrottled",
            null);
      }
      if (code != null && AUTH.contains(code)
          || a.statusCode() == 401
          || a.statusCode() == 403 && code == null) {
        return ApplicationFailure.newNonRetryableFailureWithCause(
            what
                + " refused for the credentials used ("
                + where
                + "): "
                + code
                + ": "
                + message(e)
                + " (check the credentials and their IAM permissions)",
            "AwsAuthFailed",
            null);
      }
      if (a.statusCode() >= 500) {
        return ApplicationFailure.newFailureWithCause(
            what
                + ": AWS answered "
                + a.statusCode()
                + " ("
                + where
                + "): "
                + code
                + " "
                + message(e),
            "AwsUnreachable",
            null);
      }
      return ApplicationFailure.newNonRetryableFailureWithCause(
          what + " refused by AWS (" + where + "): " + code + ": " + message(e),
          "AwsRequestRefused",
          null);
    }
    String m = String.valueOf(e.getMessage());
    if (e instanceof SdkClientException && m.contains("Unable to load credentials")) {
      // The default chain found nothing: a configuration problem a retry does not fix.
      return ApplicationFailure.newNonRetryableFailureWithCause(
          what
              + ": no AWS credentials on this worker ("
              + where
              + "): configure aws.accessKeyRef and aws.secretKeyRef, or give the worker an"
              + " instance profile or AWS_* environment",
          "AwsAuthFailed",
          null);
    }
    return ApplicationFailure.newFailureWithCause(
        "cannot reach AWS for " + what + " (" + where + "): " + m, "AwsUnreachable", null);
  }
}

package dev.crewchief.adapters.secrets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.activity.Activity;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.failure.v1.Failure;
import io.temporal.client.ActivityCanceledException;
import io.temporal.common.converter.DataConverter;
import io.temporal.failure.ApplicationErrorCategory;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What {@link FailureScrubber} keeps and what it masks, short of the SDK's serialisation. */
class FailureScrubberTest {
  static final String SECRET = "failure-scrubber-secret";

  record Detail(String note, int code) {}

  private final FailureScrubber failures;

  FailureScrubberTest() {
    KnownSecrets known = new KnownSecrets();
    known.register(SECRET);
    Scrubber scrubber = new Scrubber(known);
    failures = new FailureScrubber(scrubber, new ValueScrubber(scrubber));
  }

  @Test
  void anApplicationFailureKeepsEverythingButTheSecrets() {
    ApplicationFailure original =
        ApplicationFailure.newBuilder()
            .setMessage("retry later, " + SECRET)
            .setType("WebhookUnreachable")
            .setNonRetryable(false)
            .setNextRetryDelay(Duration.ofSeconds(7))
            .setCategory(ApplicationErrorCategory.BENIGN)
            .setDetails(new Detail("said " + SECRET, 503), "plain")
            .setCause(new IOException("reset by https://u:pw-cause@host"))
            .build();

    ApplicationFailure f = (ApplicationFailure) failures.scrub(original);

    assertEquals("retry later, ***", f.getOriginalMessage());
    assertEquals("WebhookUnreachable", f.getType());
    assertFalse(f.isNonRetryable());
    assertEquals(Duration.ofSeconds(7), f.getNextRetryDelay());
    assertEquals(ApplicationErrorCategory.BENIGN, f.getCategory());
    assertEquals(new Detail("said ***", 503), f.getDetails().get(0, Detail.class));
    assertEquals("plain", f.getDetails().get(1, String.class));
    assertArrayEquals(original.getStackTrace(), f.getStackTrace());

    ApplicationFailure cause = assertInstanceOf(ApplicationFailure.class, f.getCause());
    assertEquals("java.io.IOException", cause.getType());
    assertEquals("reset by https://***@host", cause.getOriginalMessage());
    assertArrayEquals(original.getCause().getStackTrace(), cause.getStackTrace());
    assertNull(cause.getCause());
  }

  @Test
  void aFailureReadFromHistoryIsRecordedAfreshNotAsItsOriginal() {
    // An activity that rethrows a failure it got from Temporal (a child call, a client call):
    // the SDK would record that failure's original protobuf, messages and details included.
    DataConverter dc = DataConverter.getDefaultInstance();
    Failure original =
        dc.exceptionToFailure(
            ApplicationFailure.newFailureWithCause(
                "outer " + SECRET,
                "Remote",
                new IOException("inner " + SECRET),
                new Detail("d " + SECRET, 1)));
    RuntimeException read = dc.failureToException(original);
    assertTrue(dc.exceptionToFailure(read).getMessage().contains(SECRET), "recorded verbatim");

    Failure recorded = dc.exceptionToFailure(failures.scrub(read));

    assertEquals("outer ***", recorded.getMessage());
    assertEquals("Remote", recorded.getApplicationFailureInfo().getType());
    assertEquals("inner ***", recorded.getCause().getMessage());
    assertEquals("java.io.IOException", recorded.getCause().getApplicationFailureInfo().getType());
    // Its details were payloads: decoded to be scrubbed, encoded again to the same JSON shape.
    Payload detail = recorded.getApplicationFailureInfo().getDetails().getPayloads(0);
    assertEquals(new Detail("d ***", 1), dc.fromPayload(detail, Detail.class, Detail.class));
  }

  @Test
  void detailsWithoutSecretsAreKeptAsTheyWere() {
    ApplicationFailure original = ApplicationFailure.newNonRetryableFailure("x", "T", "d");
    ApplicationFailure f = (ApplicationFailure) failures.scrub(original);
    assertSame(original.getDetails(), f.getDetails());
    assertTrue(f.isNonRetryable());
    // Built without details: their Values cannot even tell their size; kept, and still usable.
    ApplicationFailure bare = ApplicationFailure.newBuilder().setType("T").setMessage("m").build();
    assertSame(bare.getDetails(), ((ApplicationFailure) failures.scrub(bare)).getDetails());
  }

  @Test
  void anyOtherExceptionBecomesAnApplicationFailureOfItsClassName() {
    IllegalStateException original = new IllegalStateException("state " + SECRET);
    ApplicationFailure f = (ApplicationFailure) failures.scrub(original);
    assertEquals("java.lang.IllegalStateException", f.getType());
    assertEquals("state ***", f.getOriginalMessage());
    assertFalse(f.isNonRetryable());
    assertArrayEquals(original.getStackTrace(), f.getStackTrace());

    // A checked exception arrives wrapped by Activity.wrap; the SDK records the wrapped one.
    ApplicationFailure checked =
        (ApplicationFailure) failures.scrub(Activity.wrap(new IOException("io " + SECRET)));
    assertEquals("java.io.IOException", checked.getType());
    assertEquals("io ***", checked.getOriginalMessage());

    ApplicationFailure nullMessage = failures.rebuild(new NullPointerException());
    assertEquals("", nullMessage.getOriginalMessage());
  }

  @Test
  void aCyclicCauseChainEnds() {
    IllegalStateException a = new IllegalStateException("a " + SECRET);
    IllegalArgumentException b = new IllegalArgumentException("b", a);
    a.initCause(b);
    ApplicationFailure f = failures.rebuild(a);
    assertEquals("a ***", f.getOriginalMessage());
    assertEquals("b", ((ApplicationFailure) f.getCause()).getOriginalMessage());
    assertNull(f.getCause().getCause());
  }

  @Test
  void cancellationAndCompletionControlPassThrough() {
    ActivityCanceledException cancelled = new ActivityCanceledException();
    assertSame(cancelled, failures.scrub(cancelled));
    CanceledFailure canceledFailure = new CanceledFailure("cancelled " + SECRET);
    assertSame(canceledFailure, failures.scrub(canceledFailure));
  }
}

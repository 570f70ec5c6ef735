package dev.crewchief.adapters.docker;

import com.github.dockerjava.api.async.ResultCallback;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A streamed response (exec output, pull progress) that can be waited on in slices, heartbeating
 * between them. docker-java's own {@code awaitCompletion(timeout)} closes the stream when its
 * timeout passes, so it cannot be used to poll.
 */
abstract class Streaming<T> extends ResultCallback.Adapter<T> {
  private final CountDownLatch ended = new CountDownLatch(1);

  @Override
  public void onComplete() {
    super.onComplete();
    ended.countDown();
  }

  @Override
  public void onError(Throwable t) {
    super.onError(t);
    ended.countDown();
  }

  @Override
  public void close() throws IOException {
    super.close();
    ended.countDown();
  }

  /** Waits up to {@code slice} for the stream to end; true when it has. */
  boolean awaitEnd(Duration slice) throws InterruptedException {
    return ended.await(slice.toMillis(), TimeUnit.MILLISECONDS);
  }
}

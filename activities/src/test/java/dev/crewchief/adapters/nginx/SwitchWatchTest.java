package dev.crewchief.adapters.nginx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.Downtime;
import dev.crewchief.activities.SwitchProbe;
import io.temporal.failure.ApplicationFailure;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** How a watch's answers become a {@link Downtime}, and the probe's interval rules. */
class SwitchWatchTest {
  static SwitchWatch watch(int interval) {
    return SwitchWatch.of(
        new SwitchProbe("http://127.0.0.1:8080/", "a.test", "up", "done", null, interval));
  }

  static String output(String settled, String... answers) {
    return "reloaded\n"
        + SwitchWatch.BEGIN
        + " 1000 1200 "
        + settled
        + "\n"
        + String.join("\n", answers)
        + "\n"
        + SwitchWatch.END
        + "\n";
  }

  @Test
  void downtimeRunsFromTheFirstDownAnswerToTheLastPlusOneInterval() {
    SwitchWatch.Watched w =
        watch(50)
            .parse(
                output(
                    "1",
                    "950 200 1 0",
                    "1000 200 1 0",
                    "1050 000 0 0",
                    "1100 503 0 0",
                    "1150 200 1 1",
                    "1200 200 0 1",
                    "1250 200 1 1",
                    "1300 200 1 1",
                    "1350 200 1 1"));
    Downtime d = w.downtime();
    assertEquals("reloaded", w.output());
    assertEquals(9, d.probes());
    assertEquals(3, d.down());
    assertEquals(Instant.ofEpochMilli(1050), d.firstDown());
    assertEquals(Instant.ofEpochMilli(1200), d.lastDown());
    assertEquals(200, d.millis());
    assertTrue(d.settled());
    assertEquals(1000, w.switchStart());
    assertEquals(1200, w.switchEnd());
  }

  @Test
  void noDownAnswerIsNoDowntime() {
    Downtime d = watch(20).parse(output("0", "1 200 1 0", "2 200 1 1")).downtime();
    assertEquals(2, d.probes());
    assertEquals(0, d.down());
    assertEquals(0, d.millis());
    assertNull(d.firstDown());
    assertFalse(d.settled());
    assertEquals("no downtime (2 probes, not settled when the watch ended)", d.describe());
  }

  @Test
  void outputWithoutTheAnswersIsAFailureNotAnUnwatchedSwitch() {
    ApplicationFailure f =
        assertThrows(ApplicationFailure.class, () -> watch(50).parse("reloaded\n"));
    assertEquals("RemoteCommandFailed", f.getType());
    assertFalse(f.isNonRetryable());
  }

  @Test
  void intervalDefaultsTo50AndIsNeverBelow10() {
    assertEquals(50, watch(0).intervalMillis());
    assertEquals(50, watch(-5).intervalMillis());
    assertEquals(10, watch(3).intervalMillis());
    assertEquals(250, watch(250).intervalMillis());
    assertTrue(watch(20).wrap("true").contains("sleep 0.020"));
  }

  @Test
  void probeTextsAreInsertedOnceAndQuoted() {
    SwitchWatch w =
        SwitchWatch.of(
            new SwitchProbe("http://127.0.0.1/", null, "it's {{SWITCH}} $(up)", "done", null, 0));
    String cmd = w.wrap("echo the-switch");
    assertEquals(1, cmd.split("echo the-switch", -1).length - 1, cmd);
    assertTrue(cmd.contains("cw_up='it'\\''s {{SWITCH}} $(up)'"), cmd);
    assertFalse(cmd.contains("-H "), "no Host header when none is set");
  }
}

package dev.crewchief.adapters.nginx;

import static dev.crewchief.release.Shell.q;

import dev.crewchief.activities.Downtime;
import dev.crewchief.activities.SwitchProbe;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Watches a traffic switch from the proxy host itself and measures the downtime it caused. The
 * switch's shell command is wrapped, so that watching costs no extra SSH round trip and sees what
 * the users behind the proxy see: a probe loop (curl, one answer per interval, each stamped with
 * the host's clock in milliseconds) is started in the background and seen to record an answer, then
 * the switch runs, then the loop goes on until the answer has settled or {@link #LIMIT} has passed,
 * and is stopped. A trap stops it on every way out of the command (a rejected config, a missing
 * target, a signal), so no loop is left running on the host; and the loop also ends by itself at a
 * hard deadline, for the one case no trap can catch (the command killed outright). A worker that
 * goes away mid-watch only leaves the command to finish its watch (at most {@link #LIMIT}) and exit
 * through the trap.
 *
 * <p>What the figures mean depends on the switch, and the step's watch is all they cover:
 *
 * <ul>
 *   <li>App to maintenance page ({@code upText} the app's, {@code settleText} the maintenance
 *       page's): the maintenance page shows from the reload on, so {@code firstDown} is when users
 *       started to see it, and {@code lastDown} is only the end of the watch: the outage goes on
 *       after the step, by design.
 *   <li>Maintenance page back to the app ({@code upText} and {@code settleText} both the app's):
 *       the answers are down from the start of the watch until the reload, so {@code lastDown} is
 *       when the outage ended for users, and {@code firstDown} only the start of the watch. The
 *       whole maintenance window runs from the first step's {@code firstDown} to this step's {@code
 *       lastDown}.
 *   <li>Between two configs that both serve the app (a re-link, an attach to another port of the
 *       same app): nginx reloads gracefully (old workers finish their requests, new ones take the
 *       same listening socket), so the expected figure is no downtime at all, and anything else is
 *       a real finding.
 *   <li>Detaching a domain ({@code settleStatus} 503): as the maintenance page, down from the
 *       reload on.
 * </ul>
 *
 * <p>An answer's timestamp is when its request was sent, by the proxy host's clock (which may
 * differ from the worker's). {@code millis} is {@code lastDown - firstDown} plus one interval,
 * since each down answer stands for the interval it was sampled in. The interval is the time
 * between request starts (the loop sleeps only what is left of it), so an answer slower than the
 * interval stretches it: that is what a user would wait, too.
 */
final class SwitchWatch {
  /** How long after the switch the answer may take to settle before the watch gives up. */
  static final Duration LIMIT = Duration.ofSeconds(30);

  /** The command's exit status when the probe cannot run on the host; the switch was not made. */
  static final int UNAVAILABLE = 5;

  static final int DEFAULT_INTERVAL_MILLIS = 50;
  static final int MIN_INTERVAL_MILLIS = 10;

  /**
   * Three settling answers must fit in the watch many times over; an interval longer than this
   * could not tell a reload's few milliseconds of outage from none anyway.
   */
  static final int MAX_INTERVAL_MILLIS = 5_000;

  /** How many answers in a row, all sent after the switch, settle it. */
  static final int SETTLE_ANSWERS = 3;

  /**
   * The longest the switch itself may take (nginx's test, the reload, the old workers' exit): the
   * probe loop's own hard deadline and the SSH command's timeout both allow for it.
   */
  static final Duration SWITCH_TIME = Duration.ofMinutes(1);

  private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{([A-Z_]+)}}");

  static final String BEGIN = "--- crewchief switch watch:";
  static final String END = "--- end of crewchief switch watch";

  private final SwitchProbe probe;
  private final int interval;

  private SwitchWatch(SwitchProbe probe, int interval) {
    this.probe = probe;
    this.interval = interval;
  }

  /**
   * The watch for a request's probe, or null when it has none; fails {@code InvalidInput} for a
   * probe that could not be run as asked (checked in a dry run too, so a rehearsal finds it).
   */
  static SwitchWatch of(SwitchProbe p) {
    if (p == null) {
      return null;
    }
    if (!isHttpUrl(p.url())) {
      throw invalid("switch probe URL '" + p.url() + "' is not an http(s) URL");
    }
    if (p.hostHeader() != null && !p.hostHeader().matches("[^\\s'\\p{Cntrl}]+")) {
      throw invalid(
          "switch probe Host header '" + p.hostHeader() + "' must be a host name, without spaces");
    }
    if (p.upText() != null && (p.upText().isEmpty() || hasLineBreak(p.upText()))) {
      throw invalid(
          "switch probe upText must be one non-empty line of the app's answer that tells it is up"
              + " (or none: the status alone tells it)");
    }
    if (p.upStatus() != null && (p.upStatus() < 100 || p.upStatus() > 599)) {
      throw invalid("switch probe upStatus " + p.upStatus() + " is not an HTTP status");
    }
    if ((p.settleText() == null) == (p.settleStatus() == null)) {
      throw invalid(
          "a switch probe needs either settleText or settleStatus (not both): what the answer is"
              + " once the switch is done");
    }
    if (p.settleText() != null && (p.settleText().isEmpty() || hasLineBreak(p.settleText()))) {
      throw invalid("switch probe settleText must be one non-empty line");
    }
    if (p.settleStatus() != null && (p.settleStatus() < 100 || p.settleStatus() > 599)) {
      throw invalid("switch probe settleStatus " + p.settleStatus() + " is not an HTTP status");
    }
    int interval =
        p.intervalMillis() <= 0
            ? DEFAULT_INTERVAL_MILLIS
            : Math.max(MIN_INTERVAL_MILLIS, p.intervalMillis());
    if (interval > MAX_INTERVAL_MILLIS) {
      throw invalid(
          "switch probe interval "
              + interval
              + " ms is too long to measure a switch: use at most "
              + MAX_INTERVAL_MILLIS
              + " ms");
    }
    return new SwitchWatch(p, interval);
  }

  /** The check {@code probe()} makes too: an http(s) URL that cannot break out of its quotes. */
  static boolean isHttpUrl(String url) {
    return url != null && url.matches("https?://[^\\s']+");
  }

  private static boolean hasLineBreak(String s) {
    return s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0;
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }

  int intervalMillis() {
    return interval;
  }

  /** For the step's action: what is watched, and when it counts as settled. */
  String describe() {
    return "watched with GET "
        + probe.url()
        + (probe.hostHeader() == null ? "" : " (Host: " + probe.hostHeader() + ")")
        + " every "
        + interval
        + " ms until "
        + (probe.settleText() != null
            ? "it answers '" + probe.settleText() + "'"
            : "it answers " + probe.settleStatus());
  }

  /** How long the wrapped command may run: the switch, then the watch, then stopping the loop. */
  Duration timeout() {
    return SWITCH_TIME.plus(LIMIT).plusSeconds(15);
  }

  /**
   * The switch command wrapped in the watch. Its exit status is the switch's, or {@link
   * #UNAVAILABLE} before any change when the probe cannot run; on success its output is the
   * switch's, then the probe's answers between {@link #BEGIN} and {@link #END}, one a line: the
   * time the request was sent (ms), the HTTP status (000 for none), 1 when up, 1 when settling.
   */
  String wrap(String switchCommand) {
    String settle =
        probe.settleText() != null
            ? "grep -qF -- \"$cw_settle\" \"$cw_dir/body\" 2>/dev/null"
            : "[ \"$cw_c\" = " + probe.settleStatus() + " ]";
    String host = probe.hostHeader() == null ? "" : "-H " + q("Host: " + probe.hostHeader()) + " ";
    long cap = SWITCH_TIME.plus(LIMIT).plusSeconds(10).toMillis();
    Map<String, String> values = new HashMap<>();
    values.put("UNAVAILABLE", String.valueOf(UNAVAILABLE));
    values.put("URL", q(probe.url()));
    values.put("UP", probe.upText() == null ? "''" : q(probe.upText()));
    values.put("UP_STATUS", String.valueOf(probe.upStatusOr200()));
    values.put(
        "UP_TEXT",
        probe.upText() == null ? ":" : "grep -qF -- \"$cw_up\" \"$cw_dir/body\" 2>/dev/null");
    values.put("SETTLE_TEXT", probe.settleText() == null ? "''" : q(probe.settleText()));
    values.put("CAP", String.valueOf(cap));
    values.put("HOST", host);
    values.put("SETTLE", settle);
    values.put("INTERVAL", String.valueOf(interval));
    values.put("INTERVAL_S", String.format("%d.%03d", interval / 1000, interval % 1000));
    values.put("SETTLE_ANSWERS", String.valueOf(SETTLE_ANSWERS));
    values.put("LIMIT", String.valueOf(LIMIT.toMillis()));
    values.put("BEGIN", BEGIN);
    values.put("END", END);
    values.put("SWITCH", switchCommand);
    // One pass, so that nothing inserted (a probe's text, the switch command) is itself taken for
    // a placeholder.
    return PLACEHOLDER
        .matcher(TEMPLATE)
        .replaceAll(m -> Matcher.quoteReplacement(values.get(m.group(1))));
  }

  /** The switch's own output and the downtime, from the output of a {@link #wrap}ped command. */
  Watched parse(String stdout) {
    int begin = stdout.indexOf("\n" + BEGIN);
    begin = begin >= 0 ? begin + 1 : stdout.startsWith(BEGIN) ? 0 : -1;
    int end = begin < 0 ? -1 : stdout.indexOf(END, begin);
    if (end < 0) {
      // The switch itself succeeded; only its watch is lost. A retry is safe (the switches are
      // idempotent) and watches again.
      throw ApplicationFailure.newFailure(
          "the switch was made, but its watch printed no answers (output: " + stdout.strip() + ")",
          "RemoteCommandFailed");
    }
    String[] lines = stdout.substring(begin, end).strip().split("\n");
    String[] head = lines[0].substring(BEGIN.length()).strip().split("\\s+");
    long switchStart = Long.parseLong(head[0]);
    long switchEnd = Long.parseLong(head[1]);
    boolean settled = head[2].equals("1");
    int probes = 0;
    int down = 0;
    long firstDown = 0;
    long lastDown = 0;
    for (int i = 1; i < lines.length; i++) {
      String[] f = lines[i].strip().split("\\s+");
      if (f.length != 4) {
        continue;
      }
      probes++;
      if (!f[2].equals("1")) {
        long t = Long.parseLong(f[0]);
        firstDown = down == 0 ? t : Math.min(firstDown, t);
        lastDown = down == 0 ? t : Math.max(lastDown, t);
        down++;
      }
    }
    Downtime downtime =
        new Downtime(
            probes,
            down,
            down == 0 ? null : Instant.ofEpochMilli(firstDown),
            down == 0 ? null : Instant.ofEpochMilli(lastDown),
            down == 0 ? 0 : lastDown - firstDown + interval,
            settled);
    return new Watched(stdout.substring(0, begin).strip(), downtime, switchStart, switchEnd);
  }

  /**
   * A watched switch: its own output, the downtime, and when the switch command started and ended
   * (ms, the host's clock).
   */
  record Watched(String output, Downtime downtime, long switchStart, long switchEnd) {}

  /*
   * The watch in POSIX shell. The loop stops when a file appears rather than by a signal, so that
   * it ends between two answers and never leaves a curl behind; the EXIT trap creates that file and
   * waits, and the other traps turn a signal into an exit so that the EXIT trap runs. Settled means
   * the last answers, all sent after the switch command ended (so all from the new config), settle.
   */
  private static final String TEMPLATE =
      """
      cw_dir=$(mktemp -d "${TMPDIR:-/tmp}/crewchief-watch.XXXXXX") || { echo 'cannot make a \
      temporary directory for the switch probe on the proxy host' >&2; exit {{UNAVAILABLE}}; }
      cw_loop=
      cw_stop() { if [ -n "$cw_loop" ]; then : > "$cw_dir/stop"; wait "$cw_loop" 2>/dev/null; \
      cw_loop=; fi; }
      trap 'cw_stop; rm -rf "$cw_dir"' EXIT
      trap 'exit 129' HUP
      trap 'exit 130' INT
      trap 'exit 141' PIPE
      trap 'exit 143' TERM
      command -v curl >/dev/null 2>&1 || { echo 'the proxy host has no curl for the switch \
      probe: install curl there, or switch without a probe' >&2; exit {{UNAVAILABLE}}; }
      case "$(date +%s%3N)" in ''|*[!0-9]*) echo 'date +%s%3N does not print milliseconds on the \
      proxy host (GNU date does): install GNU coreutils there, or switch without a probe' >&2; \
      exit {{UNAVAILABLE}};; esac
      cw_url={{URL}}
      cw_up={{UP}}
      cw_settle={{SETTLE_TEXT}}
      cw_cap=$(( $(date +%s%3N) + {{CAP}} ))
      (
        while [ ! -e "$cw_dir/stop" ]; do
          cw_t=$(date +%s%3N)
          [ "$cw_t" -lt "$cw_cap" ] || break
          rm -f "$cw_dir/body"
          cw_c=$(curl -s -m 2 -o "$cw_dir/body" -w '%{http_code}' {{HOST}}"$cw_url" 2>/dev/null)
          case "$cw_c" in ''|*[!0-9]*) cw_c=000;; esac
          cw_u=0; [ "$cw_c" = {{UP_STATUS}} ] && {{UP_TEXT}} && cw_u=1
          cw_s=0; {{SETTLE}} && cw_s=1
          printf '%s %s %s %s\\n' "$cw_t" "$cw_c" "$cw_u" "$cw_s" >> "$cw_dir/answers"
          cw_n=$(( cw_t + {{INTERVAL}} - $(date +%s%3N) ))
          [ "$cw_n" -le 0 ] || sleep "$(( cw_n / 1000 )).$(printf '%03d' $(( cw_n % 1000 )))"
        done
      ) </dev/null >/dev/null 2>&1 &
      cw_loop=$!
      cw_i=0
      until [ -s "$cw_dir/answers" ]; do
        cw_i=$(( cw_i + 1 ))
        [ "$cw_i" -le 500 ] || { echo 'the switch probe recorded no answer within 5 s on the \
      proxy host, so the switch was not made' >&2; exit {{UNAVAILABLE}}; }
        sleep 0.01
      done
      cw_t0=$(date +%s%3N)
      (
      {{SWITCH}}
      )
      cw_rc=$?
      cw_t1=$(date +%s%3N)
      cw_settled=0
      if [ "$cw_rc" -eq 0 ]; then
        cw_end=$(( cw_t1 + {{LIMIT}} ))
        while :; do
          if tail -n {{SETTLE_ANSWERS}} "$cw_dir/answers" | awk -v t1="$cw_t1" \
      '$1 >= t1 && $4 == 1 { n++ } END { exit n != {{SETTLE_ANSWERS}} }'; then
            cw_settled=1; break
          fi
          [ "$(date +%s%3N)" -lt "$cw_end" ] || break
          sleep {{INTERVAL_S}}
        done
      fi
      cw_stop
      if [ "$cw_rc" -eq 0 ]; then
        printf '%s %s %s %s\\n' '{{BEGIN}}' "$cw_t0" "$cw_t1" "$cw_settled"
        cat "$cw_dir/answers"
        printf '%s\\n' '{{END}}'
      fi
      exit "$cw_rc"
      """;
}

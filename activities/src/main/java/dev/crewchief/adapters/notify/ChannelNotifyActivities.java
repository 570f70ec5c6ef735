package dev.crewchief.adapters.notify;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.MailActivities;
import dev.crewchief.activities.MailRequest;
import dev.crewchief.activities.Notification;
import dev.crewchief.activities.NotifyActivities;
import dev.crewchief.activities.NotifyChannels;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.release.GateStatus;
import dev.crewchief.release.GateView;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link NotifyActivities} that delivers each notification to the worker's log (always, through
 * {@link LogNotifyActivities}) and to the channels the notification names: e-mail through {@link
 * MailActivities} (the SMTP adapter) and a chat incoming webhook in Slack's format.
 *
 * <p>Every configured channel is tried even when another fails, so that a broken chat webhook does
 * not keep a gate's approvers from getting their e-mail. A channel that delivered is recorded in
 * the attempt's heartbeat details ({@link Delivered}); the SDK sends the last details with a failed
 * attempt's result, so the next attempt reads them and only tries the channels that failed. If any
 * channel failed, the attempt fails afterwards with {@code NotifyFailed} (retried), naming each
 * failed channel and why; if every failure is a configuration mistake that a retry cannot mend (a
 * malformed secret reference, an invalid address, a webhook secret that is not a URL), with {@code
 * NotifyMisconfigured} (not retried), saying what to change.
 *
 * <p>The chat is tried before the e-mail: its request is bounded to {@link #CHAT_TIMEOUT}, while an
 * SMTP server that stalls can hold the attempt for the mail adapter's full timeouts. A chat message
 * already out is then recorded by its heartbeat even if the attempt times out during the e-mail.
 *
 * <p>The webhook URL is a credential (Slack's path is its token): it is resolved only here, never
 * logged, and scrubbed from anything a failure says (a receiver or an exception may quote it). The
 * SMTP password stays inside the mail adapter, which scrubs it likewise.
 */
public final class ChannelNotifyActivities implements NotifyActivities {
  private static final Logger log = LoggerFactory.getLogger(ChannelNotifyActivities.class);
  static final String EMAIL = "email";
  static final String CHAT = "chat";
  private static final String MISCONFIGURED = "NotifyMisconfigured";
  private static final String FAILED = "NotifyFailed";
  // The types of failures that a retry cannot mend because the configuration is wrong; the mail
  // adapter reports its own checks as InvalidInput and the secret resolver as SecretUnresolved.
  private static final Set<String> CONFIGURATION_TYPES =
      Set.of(MISCONFIGURED, "InvalidInput", "SecretUnresolved");
  // Short: Slack answers in well under a second, and the notify activity's whole attempt has to fit
  // the workflow's start-to-close timeout together with the e-mail.
  static final Duration CHAT_TIMEOUT = Duration.ofSeconds(10);
  private static final int TAIL = 200;

  /**
   * What earlier attempts of this activity delivered: the heartbeat details, channel names {@code
   * email} and {@code chat}.
   */
  public record Delivered(List<String> channels) {}

  private final NotifyActivities logChannel = new LogNotifyActivities();
  private final MailActivities mail;
  private final HttpClient http;
  private final SecretResolver secrets;

  /**
   * @param mail sends the e-mail (the SMTP adapter, called directly, not as an activity)
   * @param http posts to the chat webhook; it should not follow redirects, as {@code
   *     HttpWebhookActivities.newClient()} does not, so that the URL's token is never sent on to
   *     another place
   * @param secrets resolves the webhook URL's reference (the mail adapter resolves its own)
   */
  public ChannelNotifyActivities(MailActivities mail, HttpClient http, SecretResolver secrets) {
    this.mail = mail;
    this.http = http;
    this.secrets = secrets;
  }

  @Override
  public void notify(Notification n) {
    logChannel.notify(n);
    NotifyChannels channels = n.channels();
    if (channels == null || (channels.email() == null && channels.chat() == null)) {
      return;
    }
    ActivityExecutionContext context = Activity.getExecutionContext();
    Set<String> delivered = new LinkedHashSet<>(earlier(context));
    if (!delivered.isEmpty()) {
      // Carried into this attempt's own details at once, so that what it hands on when it fails
      // does not depend on the server keeping an earlier attempt's details.
      context.heartbeat(new Delivered(List.copyOf(delivered)));
    }
    // Chat first: see the class comment.
    Map<String, String> labels = new LinkedHashMap<>();
    if (channels.chat() != null) {
      labels.put(CHAT, chatLabel(channels.chat()));
    }
    if (channels.email() != null) {
      labels.put(EMAIL, emailLabel(channels.email()));
    }
    List<Failed> failed = new ArrayList<>();
    for (Map.Entry<String, String> channel : labels.entrySet()) {
      String name = channel.getKey();
      String label = channel.getValue();
      if (delivered.contains(name)) {
        log.info("[{}] {}: {} was delivered by an earlier attempt", n.releaseId(), n.kind(), label);
        continue;
      }
      if (Thread.currentThread().isInterrupted()) {
        // The worker is stopping; what is left is for the next attempt, on this worker or another.
        failed.add(new Failed(label, "not tried: the worker is stopping", false));
        continue;
      }
      String result;
      try {
        result =
            name.equals(CHAT)
                ? chat(n, channels.chat())
                : email(n, channels.email(), context.getInfo().getActivityId());
      } catch (ApplicationFailure f) {
        failed.add(new Failed(label, why(f), CONFIGURATION_TYPES.contains(f.getType())));
        log.warn("[{}] {}: {} failed: {}", n.releaseId(), n.kind(), label, why(f));
        continue;
      } catch (RuntimeException e) {
        // Not expected from either channel; other channels still get their turn. The chat code
        // has already turned its own exceptions into scrubbed failures.
        String why = e.getClass().getSimpleName() + ": " + oneLine(e.getMessage());
        failed.add(new Failed(label, why, false));
        log.warn("[{}] {}: {} failed: {}", n.releaseId(), n.kind(), label, why);
        continue;
      }
      if (result == null) {
        continue;
      }
      delivered.add(name);
      // Outside the try: a heartbeat that reports a cancelled or timed-out activity must end the
      // attempt, not count as a failed channel.
      context.heartbeat(new Delivered(List.copyOf(delivered)));
      log.info("[{}] {}: delivered by {}: {}", n.releaseId(), n.kind(), label, result);
    }
    if (failed.isEmpty()) {
      return;
    }
    throw failure(n, failed, labels, delivered);
  }

  private record Failed(String channel, String why, boolean misconfigured) {}

  private static List<String> earlier(ActivityExecutionContext context) {
    try {
      return context
          .getHeartbeatDetails(Delivered.class)
          .map(Delivered::channels)
          .filter(c -> c != null)
          .orElse(List.of());
    } catch (RuntimeException e) {
      // Details written by another version of this class: sending again is better than not at all.
      log.warn(
          "cannot read what earlier attempts delivered, trying every channel: {}", e.toString());
      return List.of();
    }
  }

  private static ApplicationFailure failure(
      Notification n, List<Failed> failed, Map<String, String> labels, Set<String> delivered) {
    boolean misconfigured = failed.stream().allMatch(Failed::misconfigured);
    String done =
        labels.entrySet().stream()
            .filter(e -> delivered.contains(e.getKey()))
            .map(Map.Entry::getValue)
            .collect(Collectors.joining(", "));
    String message =
        "notification "
            + n.kind()
            + " of "
            + n.releaseId()
            + " ("
            + n.step()
            + ") was not delivered by "
            + failed.stream()
                .map(f -> f.channel() + ": " + f.why())
                .collect(Collectors.joining("; "))
            + ". Delivered: the log"
            + (done.isEmpty() ? "" : ", " + done)
            + (misconfigured
                ? ". Correct the environment's notify channels or the worker's secrets; a retry"
                    + " would fail the same way."
                : ". A retry tries only the channels that failed.");
    return misconfigured
        ? ApplicationFailure.newNonRetryableFailure(message, MISCONFIGURED)
        : ApplicationFailure.newFailure(message, FAILED);
  }

  // ---- e-mail

  /** Sends the e-mail; null when it has nobody to go to (not an error: see the comment inside). */
  private String email(Notification n, NotifyChannels.Mail m, String activityId) {
    List<String> to = recipients(m.to(), n.addresses());
    if (to.isEmpty()) {
      // A list-less e-mail channel is for reaching the people at gates; a notification that
      // concerns nobody with an address (the release's start, say) has no one to go to.
      log.info(
          "[{}] {}: no e-mail recipients (no list, nobody with an address): not e-mailed",
          n.releaseId(),
          n.kind());
      return null;
    }
    String id = messageId(n, activityId);
    ActionResult r =
        mail.send(
            new MailRequest(
                n.step(),
                m.server(),
                m.from(),
                to,
                "[crewchief] " + subject(n),
                mailBody(n),
                id,
                false));
    return r.output();
  }

  /** The list, then the people's own addresses, each address once (compared without case). */
  static List<String> recipients(List<String> list, List<String> addresses) {
    Map<String, String> byAddress = new LinkedHashMap<>();
    for (List<String> part : List.of(nullToEmpty(list), nullToEmpty(addresses))) {
      for (String a : part) {
        String text = a == null ? "" : a.strip();
        byAddress.putIfAbsent(key(text), text);
      }
    }
    return List.copyOf(byAddress.values());
  }

  private static String key(String address) {
    try {
      return new InternetAddress(address, false).getAddress().toLowerCase(Locale.ROOT);
    } catch (AddressException e) {
      // Kept as written: the mail adapter refuses it with a message saying what to change.
      return address;
    }
  }

  /**
   * The {@code Message-ID} of a notification's e-mail: the release, the step and the kind, readable
   * for a person looking at headers, and a hash of the subject, the body and the activity's id. The
   * activity id is the same on every attempt of one notification (a retry sends the same id, which
   * archives and clients fold), and differs between two notifications that read the same: the
   * reminders of one gate have the same subject and body, and with the same id the second and later
   * ones would be folded into the first (Gmail drops them outright).
   */
  public static String messageId(Notification n, String activityId) {
    String hash = sha256(activityId + "\n" + n.subject() + "\n" + n.body()).substring(0, 16);
    return "<"
        + token(n.releaseId())
        + "."
        + token(n.step())
        + "."
        + token(n.kind() == null ? "notification" : n.kind().name())
        + "."
        + hash
        + "@crewchief>";
  }

  /** A piece of a Message-ID's dot-atom: letters, digits, '-' and '_', at most 64 of them. */
  private static String token(String s) {
    String t =
        (s == null ? "" : s.toLowerCase(Locale.ROOT))
            .replaceAll("[^a-z0-9_]+", "-")
            .replaceAll("^-+|-+$", "");
    t = t.length() > 64 ? t.substring(0, 64) : t;
    return t.isEmpty() ? "x" : t;
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** The body, then a footer that says what it is about (a forwarded mail keeps the context). */
  static String mailBody(Notification n) {
    StringBuilder b = new StringBuilder();
    if (n.body() != null && !n.body().isBlank()) {
      b.append(n.body().stripTrailing()).append("\n\n");
    }
    // "-- " on its own line is the signature separator mail clients recognise and set apart.
    b.append("-- \n");
    b.append("Release: ").append(n.releaseId()).append('\n');
    b.append("Notification: ").append(n.kind()).append('\n');
    String gate = gateLine(n);
    if (gate != null) {
      b.append("Gate: ").append(gate).append('\n');
    }
    b.append("Sent by Crew Chief\n");
    return b.toString();
  }

  /** The gate's name and where it is: whom it waits for, or who decided it. */
  private static String gateLine(Notification n) {
    GateView g = n.gate();
    if (g == null) {
      return null;
    }
    String people =
        n.people() == null || n.people().isEmpty()
            ? "nobody holds the role"
            : String.join(", ", n.people());
    String roles =
        g.allowed() == null || g.allowed().isEmpty() ? "" : String.join("/", g.allowed()) + ": ";
    if (g.status() == null || g.status() == GateStatus.WAITING) {
      return g.name() + ", waiting for " + roles + people;
    }
    return g.name()
        + " ("
        + g.status()
        + (g.decidedBy() == null ? "" : " by " + g.decidedBy())
        + (g.via() == null ? "" : " via " + g.via())
        + ")";
  }

  private static String emailLabel(NotifyChannels.Mail m) {
    return "e-mail via " + (m.server() == null ? "(no server)" : m.server().describe());
  }

  // ---- chat

  private static String chatLabel(NotifyChannels.Chat c) {
    return "chat '"
        + (c.name() == null || c.name().isBlank() ? "chat" : c.name())
        + "' (webhook "
        // A malformed reference is not shown: it may be the URL itself, pasted in its place.
        + (SecretResolver.wellFormed(c.webhookRef()) ? c.webhookRef() : "reference malformed")
        + ")";
  }

  /** Posts the notification; the webhook's URL never leaves this method except to the receiver. */
  private String chat(Notification n, NotifyChannels.Chat c) {
    if (!SecretResolver.wellFormed(c.webhookRef())) {
      // Not repeated: what is there may be the webhook URL itself, pasted instead of a reference.
      throw misconfigured(
          "its webhookRef is not of the form file:/path or env:NAME: put the webhook URL in a"
              + " file or variable on the worker and configure its reference, never the URL");
    }
    String url = secrets.resolve(c.webhookRef(), "the webhook URL of " + chatLabel(c)).strip();
    URI uri = webhookUri(url, c.webhookRef());
    String json = "{\"text\":" + jsonString(chatText(n)) + "}";
    try {
      HttpRequest request =
          HttpRequest.newBuilder(uri)
              .timeout(CHAT_TIMEOUT)
              .header("Content-Type", "application/json; charset=utf-8")
              .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8))
              .build();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      int status = response.statusCode();
      String tail = scrub(tail(response.body()), uri);
      if (status >= 200 && status < 300) {
        return status + " " + tail;
      }
      if (status >= 300 && status < 400) {
        throw ApplicationFailure.newFailure(
            "the webhook answered "
                + status
                + " (a redirect, not followed): put the final URL in "
                + c.webhookRef(),
            "ChatRejected");
      }
      throw ApplicationFailure.newFailure(
          "the webhook answered "
              + status
              + (tail.isEmpty() ? "" : " (" + tail + ")")
              + (status == 403 || status == 404 || status == 410
                  ? ": the webhook may have been revoked; check the URL in " + c.webhookRef()
                  : ""),
          status == 400 || (status >= 402 && status < 500 && status != 408 && status != 429)
              ? "ChatRejected"
              : "ChatUnreachable");
    } catch (ApplicationFailure f) {
      throw f;
    } catch (IOException e) {
      throw ApplicationFailure.newFailure(
          "cannot reach the webhook: "
              + e.getClass().getSimpleName()
              + (e.getMessage() == null ? "" : " " + scrub(oneLine(e.getMessage()), uri)),
          "ChatUnreachable");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure(
          "interrupted while posting: the worker is stopping", "ChatUnreachable");
    } catch (RuntimeException e) {
      // The JDK's client may name the URI in its own exceptions (a header or argument it refuses).
      throw ApplicationFailure.newFailure(
          "posting failed: "
              + e.getClass().getSimpleName()
              + " "
              + scrub(oneLine(String.valueOf(e.getMessage())), uri),
          "ChatUnreachable");
    }
  }

  /**
   * The resolved URL, checked: https, or http to this machine only (a test or a local relay), since
   * the URL is the credential and plain http to another host would show it to the network.
   */
  private static URI webhookUri(String url, String reference) {
    String fix =
        ": put the incoming webhook's URL (such as https://hooks.slack.com/services/...) in "
            + reference;
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      // Neither the text nor the parser's message (which quotes it) is repeated.
      throw misconfigured("the secret " + reference + " does not hold a URL" + fix);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (uri.getHost() == null || !(scheme.equals("https") || scheme.equals("http"))) {
      throw misconfigured(
          "the secret " + reference + " does not hold an absolute http(s) URL with a host" + fix);
    }
    if (scheme.equals("http") && !loopback(uri.getHost())) {
      throw misconfigured(
          "the secret "
              + reference
              + " holds a plain http URL to another machine, which would show the webhook's token"
              + " to the network: use its https URL");
    }
    if (uri.getRawUserInfo() != null) {
      throw misconfigured(
          "the URL in " + reference + " carries a user and password: remove them" + fix);
    }
    return uri;
  }

  private static boolean loopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]");
  }

  /** Slack's incoming-webhook text: the subject in bold, then the body, then what it is about. */
  static String chatText(Notification n) {
    StringBuilder b = new StringBuilder();
    b.append('*').append(slackEscape(subject(n))).append('*');
    if (n.body() != null && !n.body().isBlank()) {
      b.append('\n').append(slackEscape(n.body().stripTrailing()));
    }
    String gate = gateLine(n);
    b.append("\n_")
        .append(slackEscape(n.releaseId()))
        .append(", ")
        .append(n.kind() == null ? "" : n.kind().name().toLowerCase(Locale.ROOT).replace('_', ' '))
        .append(gate == null ? "" : ", gate " + slackEscape(gate))
        .append('_');
    return b.toString();
  }

  /**
   * Slack reads {@code <...>} as links and mentions and {@code &} as the start of an entity: these
   * three are escaped, as its message formatting asks, and nothing else.
   */
  private static String slackEscape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  /** A JSON string literal, escaped as Jackson writes it. */
  static String jsonString(String s) {
    return '"' + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + '"';
  }

  /** Anything that could carry the webhook's token (the URL, its path, its last segment), gone. */
  private static String scrub(String text, URI uri) {
    String t = text.replace(uri.toString(), "<webhook URL>");
    List<String> secrets = new ArrayList<>();
    secrets.add(uri.getRawPath());
    secrets.add(uri.getPath());
    secrets.add(uri.getRawQuery());
    String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
    secrets.add(path.substring(path.lastIndexOf('/') + 1));
    for (String s : secrets) {
      if (s != null && s.length() >= 6) {
        t = t.replace(s, "***");
      }
    }
    return t;
  }

  private static String tail(String body) {
    String s = oneLine(body == null ? "" : body);
    return s.length() <= TAIL ? s : "..." + s.substring(s.length() - TAIL);
  }

  // ---- shared

  /** The subject as one line: mail headers and the chat's bold first line both need that. */
  private static String subject(Notification n) {
    String s = n.subject() == null ? "" : oneLine(n.subject());
    return s.isEmpty() ? n.releaseId() + ": " + n.kind() : s;
  }

  private static String why(ApplicationFailure f) {
    return f.getOriginalMessage() + " [" + f.getType() + "]";
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s+", " ").strip();
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  private static ApplicationFailure misconfigured(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, MISCONFIGURED);
  }
}

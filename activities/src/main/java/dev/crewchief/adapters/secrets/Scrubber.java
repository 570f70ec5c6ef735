package dev.crewchief.adapters.secrets;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Masks secrets in text that is about to enter workflow history (command output, container logs,
 * healthcheck output, error messages), replacing each with {@value #MASK}.
 *
 * <p>Two kinds of rule. The known values: every secret this worker resolved (see {@link
 * KnownSecrets}), wherever it appears, since an output can print a password in any shape. And
 * patterns that look like credentials whatever their value, for secrets the worker never resolved
 * (a password in a compose file on the host, a token in a remote's URL): URL user info, chat
 * webhook URLs, {@code Authorization} header values and {@code password=...}-style assignments.
 *
 * <p>{@link #scrub} is null-safe, idempotent (scrubbing scrubbed text changes nothing) and linear
 * in the text's length: every pattern starts with a literal or is bounded, so that a 100 KB line
 * without separators cannot make it backtrack quadratically.
 */
public final class Scrubber {
  /** What a secret is replaced with. */
  public static final String MASK = "***";

  /**
   * Known values shorter than this are not masked: a two-letter password would be "masked" in every
   * word that contains it, which hides the output and tells the reader where the password is.
   */
  public static final int MIN_SECRET_LENGTH = 4;

  /**
   * Each line of this length or more of a multi-line secret (a private key, a credentials file) is
   * masked on its own as well, so that an output holding only part of the secret is masked too.
   * Shorter lines ("-----END", a blank line, "}") are too common to be told apart from other text.
   */
  static final int MIN_LINE_LENGTH = 8;

  // Each rule only ever replaces with the mask, and the mask matches no rule's value in a way
  // that changes it, so a second pass changes nothing in practice; the passes are a guarantee for
  // pathological secrets (one that contains the mask).
  private static final int MAX_PASSES = 3;

  // User info in a URL: everything between "://" and the last "@" before the host's end. The
  // scheme is read back from the text by the replacement.
  private static final Pattern URL_USER_INFO = Pattern.compile("://([^\\s/?#\"'<>]{1,512})@");

  // Chat webhook URLs carry their credential in the path: the host is kept (it says where the
  // notice went), the path is masked. "\\?/" also matches a JSON-escaped slash.
  private static final Pattern WEBHOOK_PATH =
      Pattern.compile(
          "(?i)(hooks\\.slack\\.com|discord(?:app)?\\.com(?=\\\\?/api\\\\?/webhooks)"
              + "|webhook\\.office\\.com|outlook\\.office(?:365)?\\.com(?=\\\\?/webhook))"
              + "\\\\?/[^\\s\"'<>]+");

  // "Authorization: Bearer VALUE" in a header dump, a curl command line or JSON; the scheme is
  // kept, it helps to see which kind of credential was sent.
  private static final Pattern AUTHORIZATION =
      Pattern.compile(
          "(?i)(authorization[\"']?[ \\t]*[:=][ \\t]*[\"']?)"
              + "((?:bearer|basic|token|digest)[ \\t]+)?"
              + "([^\\s\"',;]+)");

  // password=VALUE, PGPASSWORD=VALUE, --db-password=VALUE, client_secret=VALUE, access_token=VALUE,
  // in command lines, environment dumps, connection strings and URL queries. Only the key's end is
  // matched: the part before it is kept anyway, and matching it would make the pattern quadratic.
  private static final Pattern ASSIGNMENT =
      Pattern.compile(
          "(?i)((?:password|passwd|secret|token|api[_-]?key|access[_-]?key|signature"
              + "|(?<![a-z])sig)[ \\t]*=[ \\t]*)(?!=)"
              + "('[^'\\n]{0,1024}'|\"[^\"\\n]{0,1024}\"|[^\\s'\"&;]+)");

  // A reference such as "<env:PG_PASSWORD>", which adapters print in the place of a secret's value
  // to say where it comes from: not secret, and worth keeping readable.
  private static final Pattern REFERENCE = Pattern.compile("<(?:env|file):[^>\\s]*>");

  // Credential fields of a JSON secret (a registry login is {"username":..,"password":..}): the
  // password may be printed alone.
  private static final Pattern JSON_CREDENTIAL =
      Pattern.compile(
          "(?i)\"(?:password|secret|token|auth|identitytoken|registrytoken)\"\\s*:\\s*"
              + "\"((?:[^\"\\\\]|\\\\.)*)\"");

  // A secret that is a whole header value ("Bearer abc..."): the token may be printed alone.
  private static final Pattern SCHEME_AND_TOKEN =
      Pattern.compile("(?i)(?:bearer|basic|token|digest)\\s+(\\S+)");

  private final KnownSecrets known;
  private final AtomicReference<Needles> needles;

  public Scrubber(KnownSecrets known) {
    this.known = known;
    this.needles = new AtomicReference<>(new Needles(Set.of(), List.of()));
  }

  /** The text with every secret found in it masked; {@code null} for {@code null}. */
  public String scrub(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    List<String> values = needles().values();
    String s = text;
    for (int pass = 0; pass < MAX_PASSES; pass++) {
      String next = once(s, values);
      // Every step returns the same instance when it changes nothing.
      if (next == s) {
        return s;
      }
      s = next;
    }
    return s;
  }

  private static String once(String text, List<String> values) {
    String s = text;
    for (String v : values) {
      s = s.replace(v, MASK);
    }
    if (s.contains("://")) {
      s = replace(URL_USER_INFO, s, Scrubber::userInfo);
    }
    s = replace(WEBHOOK_PATH, s, (t, m) -> m.group(1) + "/" + MASK);
    s = replace(AUTHORIZATION, s, (t, m) -> masked(m, 3));
    s = replace(ASSIGNMENT, s, (t, m) -> masked(m, 2));
    return s;
  }

  /** Replaces each match by what {@code by} makes of it; the same instance if none changed. */
  private static String replace(Pattern p, String text, Replacement by) {
    Matcher m = p.matcher(text);
    if (!m.find()) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    int last = 0;
    boolean changed = false;
    do {
      String replacement = by.apply(text, m);
      if (!replacement.equals(m.group())) {
        out.append(text, last, m.start()).append(replacement);
        last = m.end();
        changed = true;
      }
    } while (m.find());
    if (!changed) {
      return text;
    }
    return out.append(text, last, text.length()).toString();
  }

  /**
   * The match with group {@code value} masked (its quotes kept), unless it is a reference such as
   * {@code <env:NAME>} rather than a value.
   */
  private static String masked(MatchResult m, int value) {
    String v = m.group(value);
    if (REFERENCE.matcher(v).matches()) {
      return m.group();
    }
    boolean quoted = v.length() >= 2 && (v.charAt(0) == '\'' || v.charAt(0) == '"');
    String mask = quoted ? v.charAt(0) + MASK + v.charAt(0) : MASK;
    int from = m.start(value) - m.start();
    int to = m.end(value) - m.start();
    String whole = m.group();
    return whole.substring(0, from) + mask + whole.substring(to);
  }

  /**
   * "user:password@" is masked whatever the scheme; a user alone only for http(s), where it is
   * usually a token (https://TOKEN@github.com/...), and not for ssh://git@host, where it is not.
   */
  private static String userInfo(String text, MatchResult m) {
    if (!m.group(1).contains(":") && !schemeIsHttp(text, m.start())) {
      return m.group();
    }
    return "://" + MASK + "@";
  }

  /** Whether the URL scheme that ends at {@code end} (where "://" starts) is http or https. */
  private static boolean schemeIsHttp(String text, int end) {
    int start = end;
    while (start > 0 && end - start < 32 && isSchemeChar(text.charAt(start - 1))) {
      start--;
    }
    String scheme = text.substring(start, end).toLowerCase(Locale.ROOT);
    return scheme.equals("http") || scheme.equals("https");
  }

  private static boolean isSchemeChar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '+'
        || c == '.'
        || c == '-';
  }

  private Needles needles() {
    Set<String> snapshot = known.values();
    Needles n = needles.get();
    if (n.source() != snapshot) {
      n = new Needles(snapshot, derive(snapshot));
      needles.set(n);
    }
    return n;
  }

  /**
   * The strings to mask for a set of secrets, longest first, so that a whole private key becomes
   * one mask rather than a mask per line.
   */
  static List<String> derive(Set<String> secrets) {
    Set<String> out = new LinkedHashSet<>();
    for (String secret : secrets) {
      String v = secret.strip();
      if (v.length() < MIN_SECRET_LENGTH) {
        continue;
      }
      out.add(v);
      // The same value as an output may print it: URL-encoded (in a connection URL) or
      // JSON-escaped (in `docker inspect` or an API's answer).
      String form = URLEncoder.encode(v, StandardCharsets.UTF_8);
      out.add(form);
      out.add(form.replace("+", "%20"));
      out.add(jsonEscaped(v));
      if (v.contains("\n")) {
        v.lines().map(String::strip).filter(l -> l.length() >= MIN_LINE_LENGTH).forEach(out::add);
      }
      addGroups(JSON_CREDENTIAL, v, out);
      Matcher t = SCHEME_AND_TOKEN.matcher(v);
      if (t.matches()) {
        out.add(t.group(1));
      }
    }
    List<String> sorted = new ArrayList<>();
    for (String s : out) {
      if (s.length() >= MIN_SECRET_LENGTH) {
        sorted.add(s);
      }
    }
    sorted.sort(Comparator.comparingInt(String::length).reversed());
    return List.copyOf(sorted);
  }

  private static void addGroups(Pattern p, String v, Set<String> out) {
    Matcher m = p.matcher(v);
    while (m.find()) {
      out.add(m.group(1));
    }
  }

  /** A value as it appears inside a JSON string: escaped as Jackson (and so the SDK) writes it. */
  private static String jsonEscaped(String v) {
    return new String(JsonStringEncoder.getInstance().quoteAsString(v));
  }

  /** What a match becomes, given the whole text (for a look around the match). */
  private interface Replacement {
    String apply(String text, MatchResult m);
  }

  /** The strings derived from one snapshot of the known secrets. */
  private record Needles(Set<String> source, List<String> values) {}
}

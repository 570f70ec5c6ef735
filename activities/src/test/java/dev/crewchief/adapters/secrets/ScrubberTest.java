package dev.crewchief.adapters.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Each masking rule of {@link Scrubber}, its limits, idempotence and speed on large outputs. */
class ScrubberTest {
  // An ed25519 key made for this test only; it never authorised anything.
  static final String KEY =
      """
      -----BEGIN OPENSSH PRIVATE KEY-----
      b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
      QyNTUxOQAAACDk3n3bT1Xo8mJm0WcK6o0c0JqgZQnq7Y0H4lQ2mZtq0QAAAJgH3Jb2B9yW
      9gAAAAtzc2gtZWQyNTUxOQAAACDk3n3bT1Xo8mJm0WcK6o0c0JqgZQnq7Y0H4lQ2mZtq0Q
      AAAEC0t9uZ6p1d3x0f7lJv3Yw0m3sQ0y9Tt9b0bqQ5Y7yQy+TefdtPVejyYmbRZwrqjRzQ
      -----END OPENSSH PRIVATE KEY-----
      """;

  private final KnownSecrets known = new KnownSecrets();
  private final Scrubber scrubber = new Scrubber(known);

  @Test
  void masksKnownValuesWhereverTheyAppear() {
    known.register("hunter2-but-longer");
    assertEquals(
        "connecting with *** as password, again: ***.",
        scrubber.scrub(
            "connecting with hunter2-but-longer as password, again: hunter2-but-longer."));
  }

  @Test
  void aSecretRegisteredAfterTheScrubberWasMadeIsMaskedToo() {
    assertEquals("value s3cr3t-late", scrubber.scrub("value s3cr3t-late"));
    known.register("s3cr3t-late");
    assertEquals("value ***", scrubber.scrub("value s3cr3t-late"));
  }

  @Test
  void aSecretFileTrailingNewlineIsNotPartOfTheValue() {
    known.register("filepass-9931\n");
    assertEquals("pw is *** ok", scrubber.scrub("pw is filepass-9931 ok"));
  }

  @Test
  void valuesShorterThanFourCharactersAreNotMasked() {
    known.register("abc");
    known.register("abcd");
    // "abc" alone would mask every word containing it; "abcd" is masked.
    assertEquals("abc *** abcx", scrubber.scrub("abc abcd abcx"));
    assertEquals("abcabc", scrubber.scrub("abcabc"));
  }

  @Test
  void aPrivateKeyIsMaskedWholeAndLineByLine() {
    known.register(KEY);
    String whole = scrubber.scrub("key file:\n" + KEY + "done");
    assertEquals("key file:\n***\ndone", whole);

    // A partial print: two lines of the key body, as a tool that fails halfway may echo them.
    List<String> lines = KEY.lines().toList();
    String partial = "unexpected input near\n" + lines.get(2) + "\n" + lines.get(3) + "\nabort";
    String scrubbed = scrubber.scrub(partial);
    assertEquals("unexpected input near\n***\n***\nabort", scrubbed);
    for (String line : lines) {
      assertFalse(scrubbed.contains(line.strip()), "a line of the key survived");
    }
  }

  @Test
  void encodedFormsOfAKnownValueAreMasked() {
    known.register("p@ss w\"rd/42");
    assertEquals("url: ***", scrubber.scrub("url: p%40ss+w%22rd%2F42"));
    assertEquals("url: ***", scrubber.scrub("url: p%40ss%20w%22rd%2F42"));
    assertEquals("{\"pw\":\"***\"}", scrubber.scrub("{\"pw\":\"p@ss w\\\"rd/42\"}"));
  }

  @Test
  void partsOfACompositeSecretThatTravelAloneAreMasked() {
    known.register("{\"username\":\"deploybot\",\"password\":\"reg-pass-5521\"}");
    known.register("Bearer tok_8f2e9c1b7a");
    assertEquals(
        "login failed for deploybot with ***; auth ***",
        scrubber.scrub("login failed for deploybot with reg-pass-5521; auth tok_8f2e9c1b7a"));
  }

  @Test
  void urlCredentialsAreMasked() {
    assertEquals(
        "pg_dump postgres://***@db.internal:5432/app failed",
        scrubber.scrub("pg_dump postgres://app:S3cr3t!@db.internal:5432/app failed"));
    assertEquals(
        "fatal: https://***@github.com/acme/app.git not found",
        scrubber.scrub("fatal: https://ghp_abcdef123456@github.com/acme/app.git not found"));
    assertEquals(
        "remote: https://***@git.example.com/x",
        scrubber.scrub("remote: https://user:p@ss@git.example.com/x"));
  }

  @Test
  void urlsWithoutCredentialsAreKept() {
    for (String s :
        List.of(
            "ssh://git@github.com/acme/app.git",
            "https://example.com/users/a@b.c",
            "https://example.com/?mail=a@b.c",
            "git@github.com:acme/app.git",
            "see http://localhost:8080/health")) {
      assertEquals(s, scrubber.scrub(s));
    }
  }

  @Test
  void chatWebhookUrlsKeepTheirHostOnly() {
    assertEquals(
        "POST https://hooks.slack.com/*** -> 200",
        scrubber.scrub(
            "POST https://hooks.slack.com/services/T0123ABCD/B0456EFGH/xYzAbC123dEf456gHi -> 200"));
    assertEquals(
        "https://discord.com/*** answered 404",
        scrubber.scrub("https://discord.com/api/webhooks/123456789012/aBcDeF-gHiJkL answered 404"));
    assertEquals(
        "https://discordapp.com/***",
        scrubber.scrub("https://discordapp.com/api/webhooks/123456789012/aBcDeF-gHiJkL"));
    assertEquals(
        "https://acme.webhook.office.com/*** failed",
        scrubber.scrub(
            "https://acme.webhook.office.com/webhookb2/1234-abcd@5678-efgh/IncomingWebhook/99/00"
                + " failed"));
    // As JSON escapes it.
    assertEquals(
        "{\"url\":\"https:\\/\\/hooks.slack.com/***\"}",
        scrubber.scrub("{\"url\":\"https:\\/\\/hooks.slack.com\\/services\\/T1\\/B2\\/xyz\"}"));
    // Not a webhook: a Discord channel link is kept.
    assertEquals(
        "https://discord.com/channels/1/2", scrubber.scrub("https://discord.com/channels/1/2"));
  }

  @Test
  void authorizationHeaderValuesAreMasked() {
    assertEquals(
        "curl -H 'Authorization: Bearer ***' https://x",
        scrubber.scrub("curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc' https://x"));
    assertEquals("authorization: Basic ***", scrubber.scrub("authorization: Basic dXNlcjpwYXNz"));
    assertEquals("Authorization: token ***", scrubber.scrub("Authorization: token ghp_123456"));
    assertEquals("Authorization: ***", scrubber.scrub("Authorization: rawtoken123"));
    assertEquals(
        "{\"Authorization\": \"Bearer ***\"}",
        scrubber.scrub("{\"Authorization\": \"Bearer abc.def.ghi\"}"));
    assertEquals(
        "> Proxy-Authorization: Basic ***",
        scrubber.scrub("> Proxy-Authorization: Basic Zm9vOmJhcg=="));
  }

  @Test
  void assignmentsOfSecretsAreMasked() {
    assertEquals(
        "PGPASSWORD=*** pg_dump --host=db",
        scrubber.scrub("PGPASSWORD=hunter22 pg_dump --host=db"));
    assertEquals(
        "host=db port=5432 password=*** dbname=app",
        scrubber.scrub("host=db port=5432 password=s3cr3t dbname=app"));
    assertEquals(
        "jdbc:postgresql://db/app?user=u&password=***&ssl=true",
        scrubber.scrub("jdbc:postgresql://db/app?user=u&password=pw123&ssl=true"));
    assertEquals(
        "GET /api?access_token=***&x=1", scrubber.scrub("GET /api?access_token=abc123&x=1"));
    assertEquals("token=***", scrubber.scrub("token=abc123"));
    assertEquals(
        "docker run -e MYSQL_ROOT_PASSWORD='***' -e DB_PASSWORD=\"***\" mysql",
        scrubber.scrub("docker run -e MYSQL_ROOT_PASSWORD='a b c' -e DB_PASSWORD=\"x;y\" mysql"));
    assertEquals("client_secret = ***", scrubber.scrub("client_secret = abcdef"));
    assertEquals("...&sig=***&se=2030", scrubber.scrub("...&sig=AbC%2Bdef&se=2030"));
  }

  @Test
  void referencesAndLookalikesAreKept() {
    for (String s :
        List.of(
            "PGPASSWORD=<env:PG_PASSWORD> pg_dump",
            "Authorization: <file:/run/secrets/hook>",
            "password_file=/run/secrets/db",
            "passwordRef=env:PG",
            "if (token == null)",
            "FATAL: password authentication failed for user \"app\"",
            "no Authorization header configured",
            "design=flat config=prod")) {
      assertEquals(s, scrubber.scrub(s));
    }
  }

  @Test
  void nullAndEmptyAreReturnedAsTheyAre() {
    assertNull(scrubber.scrub(null));
    assertEquals("", scrubber.scrub(""));
    String clean = "nothing to see here";
    assertSame(clean, scrubber.scrub(clean));
  }

  @Test
  void scrubbingIsIdempotent() {
    known.register(KEY);
    known.register("hunter2-but-longer");
    known.register("{\"username\":\"u\",\"password\":\"reg-pass-5521\"}");
    List<String> inputs =
        List.of(
            "x hunter2-but-longer y",
            KEY,
            "postgres://app:hunter2-but-longer@db/app",
            "https://tok@github.com/a",
            "https://hooks.slack.com/services/T/B/C",
            "Authorization: Bearer abc",
            "PGPASSWORD='a b' password=\"c\" token=d",
            "reg-pass-5521 in \"password\":\"reg-pass-5521\"",
            "https://u:PGPASSWORD=x@h/?token=y&sig=z Authorization: Basic hunter2-but-longer");
    for (String in : inputs) {
      String once = scrubber.scrub(in);
      assertEquals(once, scrubber.scrub(once), "scrubbing twice changed: " + in);
    }
  }

  @Test
  void aLargeOutputIsScrubbedQuickly() {
    known.register(KEY);
    known.register("hunter2-but-longer");
    StringBuilder b = new StringBuilder();
    int n = 0;
    while (b.length() < 100_000) {
      b.append("step ").append(n++).append(": ok, all healthy, nothing to report\n");
      if (n % 500 == 0) {
        b.append("PGPASSWORD=pw").append(n).append(" hunter2-but-longer https://u:p@h/x\n");
      }
    }
    String big = b.toString();
    String scrubbed =
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> scrubber.scrub(big), "too slow");
    assertFalse(scrubbed.contains("hunter2-but-longer"));
    assertFalse(scrubbed.contains("u:p@"));
    assertFalse(scrubbed.matches("(?s).*PGPASSWORD=pw\\d.*"));
    assertTrue(scrubbed.contains("step 7: ok, all healthy"));
  }

  @Test
  void pathologicalLargeOutputsDoNotBacktrack() {
    known.register("hunter2-but-longer");
    // One 100 KB word with no separator, and 100 KB of half-started credentials: a pattern that
    // backtracked over the whole word at each position would take minutes on either.
    List<String> inputs =
        List.of(
            "a".repeat(100_000),
            "a.".repeat(50_000) + "webhook.office.com",
            "password='".repeat(10_000),
            "x://".repeat(25_000) + "@",
            "Authorization: ".repeat(7_000),
            "https://hooks.slack.com/" + "s".repeat(100_000));
    assertTimeoutPreemptively(
        Duration.ofSeconds(3),
        () -> {
          for (String in : inputs) {
            scrubber.scrub(in);
          }
        });
  }

  @Test
  void knownSecretsCanBeRegisteredFromManyThreads() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    CountDownLatch start = new CountDownLatch(1);
    List<String> values = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      values.add("concurrent-secret-" + i);
    }
    try {
      for (String v : values) {
        pool.submit(
            () -> {
              start.await();
              return known.register(v);
            });
      }
      start.countDown();
    } finally {
      pool.shutdown();
      assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }
    assertEquals(200, known.values().size());
    assertEquals("*** ***", scrubber.scrub("concurrent-secret-7 concurrent-secret-199"));
  }
}

package dev.crewchief.release;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Signatures made by the real {@code ssh-keygen -Y sign}, checked by {@link DecisionSignature}, and
 * the same signatures checked by {@code ssh-keygen -Y check-novalidate} so that the two agree on
 * what was signed.
 */
class DecisionSignatureTest {
  private static final Instant AT = Instant.parse("2025-05-06T07:08:09.123Z");
  private static final byte[] MESSAGE =
      DecisionSignature.message(
          "release-randopony-prod-1.2.3", "confirm-release", "APPROVE", "alice", AT);
  private static final String BEGIN = "-----BEGIN SSH SIGNATURE-----";
  private static final String END = "-----END SSH SIGNATURE-----";

  enum KeyType {
    ED25519("ed25519", 0),
    RSA("rsa", 3072),
    ECDSA256("ecdsa", 256),
    ECDSA384("ecdsa", 384),
    ECDSA521("ecdsa", 521);

    final String type;
    final int bits;

    KeyType(String type, int bits) {
      this.type = type;
      this.bits = bits;
    }
  }

  @TempDir static Path dir;
  private static final Map<KeyType, Path> KEYS = new EnumMap<>(KeyType.class);

  @BeforeAll
  static void generateKeys() throws Exception {
    for (KeyType t : KeyType.values()) {
      KEYS.put(t, keygen(t.name().toLowerCase(), t.type, t.bits));
    }
  }

  @Test
  void theMessageIsTheDocumentedText() {
    String expected =
        "crewchief gate decision v1\n"
            + "release: release-randopony-prod-1.2.3\n"
            + "gate: confirm-release\n"
            + "decision: APPROVE\n"
            + "approver: alice\n"
            + "issued-at: 2025-05-06T07:08:09.123Z\n";
    assertArrayEquals(expected.getBytes(StandardCharsets.UTF_8), MESSAGE);

    // The hand-written UTF-8 encoder agrees with the JDK's on 2-, 3- and 4-byte characters.
    String approver = "Zoë Ålund 鈴木 \uD83D\uDE80";
    byte[] unicode = DecisionSignature.message("r", "g", "REJECT", approver, Instant.EPOCH);
    String text =
        "crewchief gate decision v1\nrelease: r\ngate: g\ndecision: REJECT\napprover: "
            + approver
            + "\nissued-at: 1970-01-01T00:00:00Z\n";
    assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), unicode);

    IllegalArgumentException injected =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                DecisionSignature.message(
                    "r", "confirm-release\ndecision: APPROVE", "REJECT", "alice", AT));
    assertTrue(injected.getMessage().contains("gate has a line break"), injected.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> DecisionSignature.message("r", "g", "APPROVE", "al\rice", AT));
    assertThrows(
        IllegalArgumentException.class,
        () -> DecisionSignature.message("r", null, "APPROVE", "alice", AT));
    assertThrows(
        IllegalArgumentException.class,
        () -> DecisionSignature.message("r", "g", "APPROVE", "alice", null));
    assertThrows(
        IllegalArgumentException.class,
        () -> DecisionSignature.message("r", "g", "APPROVE", "al\uD800ice", AT));
  }

  @ParameterizedTest
  @EnumSource(KeyType.class)
  void aSignatureBySshKeygenIsAccepted(KeyType type) throws Exception {
    Path key = KEYS.get(type);
    String line = publicLine(key);
    assertNull(DecisionSignature.checkPublicKey(line));

    String sha512 = sign(key, MESSAGE, "crewchief");
    assertTrue(blobContains(sha512, "sha512"), sha512);
    assertNull(DecisionSignature.check(sha512, MESSAGE, line));
    assertTrue(sshKeygenAccepts(sha512, MESSAGE), "ssh-keygen agrees");

    String sha256 = sign(key, MESSAGE, "crewchief", "-O", "hashalg=sha256");
    assertTrue(blobContains(sha256, "sha256"), sha256);
    assertNull(DecisionSignature.check(sha256, MESSAGE, line));
    assertTrue(sshKeygenAccepts(sha256, MESSAGE), "ssh-keygen agrees");

    // Windows line endings and surrounding blank lines, as a paste into a form may produce.
    String pasted = "\n  " + sha512.replace("\n", "\r\n") + "\n\n";
    assertNull(DecisionSignature.check(pasted, MESSAGE, line));
    // The comment of the configured line is not part of the key.
    assertNull(
        DecisionSignature.check(sha512, MESSAGE, line.split(" ")[0] + " " + line.split(" ")[1]));
  }

  @ParameterizedTest
  @EnumSource(KeyType.class)
  void aSignatureOfAnotherDecisionIsRefused(KeyType type) throws Exception {
    Path key = KEYS.get(type);
    String signature = sign(key, MESSAGE, "crewchief");
    List<byte[]> others =
        List.of(
            DecisionSignature.message(
                "release-randopony-prod-1.2.3", "promote", "APPROVE", "alice", AT),
            DecisionSignature.message(
                "release-randopony-prod-1.2.3", "confirm-release", "REJECT", "alice", AT),
            DecisionSignature.message(
                "release-randopony-prod-1.2.3",
                "confirm-release",
                "APPROVE",
                "alice",
                AT.plusSeconds(1)),
            DecisionSignature.message(
                "release-randopony-prod-1.2.3", "confirm-release", "APPROVE", "bob", AT),
            DecisionSignature.message(
                "release-randopony-prod-1.2.4", "confirm-release", "APPROVE", "alice", AT));
    for (byte[] other : others) {
      assertEquals(
          "the signature does not match the decision"
              + " (release, gate, decision, approver or issued-at differ)",
          DecisionSignature.check(signature, other, publicLine(key)));
      assertTrue(!sshKeygenAccepts(signature, other), "ssh-keygen refuses it too");
    }
  }

  @Test
  void aChoiceIsSignedWithTheDecisionAndCannotBeSwappedForAnother() throws Exception {
    Path key = KEYS.get(KeyType.values()[0]);
    byte[] reindex =
        DecisionSignature.message(
            "release-metaspace-release-prod-1.7.6",
            "strategy",
            "APPROVE",
            "alice",
            AT,
            "reindex-before-deployment");
    // Without a choice the message is exactly the one of a decision before choices existed.
    assertArrayEquals(
        DecisionSignature.message(
            "release-metaspace-release-prod-1.7.6", "strategy", "APPROVE", "alice", AT),
        DecisionSignature.message(
            "release-metaspace-release-prod-1.7.6", "strategy", "APPROVE", "alice", AT, null));
    String signature = sign(key, reindex, "crewchief");
    assertNull(DecisionSignature.check(signature, reindex, publicLine(key)));
    for (String other : new String[] {"in-place", null}) {
      byte[] swapped =
          DecisionSignature.message(
              "release-metaspace-release-prod-1.7.6", "strategy", "APPROVE", "alice", AT, other);
      assertNotNull(DecisionSignature.check(signature, swapped, publicLine(key)));
      assertTrue(!sshKeygenAccepts(signature, swapped), "ssh-keygen refuses it too");
    }
  }

  @Test
  void aSignatureByAnotherKeyNamesBothKeys() throws Exception {
    Path alice = KEYS.get(KeyType.ED25519);
    Path mallory = KEYS.get(KeyType.ECDSA256);
    String signature = sign(mallory, MESSAGE, "crewchief");
    assertEquals(
        "the signature was made with another key ("
            + sshKeygenFingerprint(mallory)
            + ") than the approver's configured key ("
            + sshKeygenFingerprint(alice)
            + ")",
        DecisionSignature.check(signature, MESSAGE, publicLine(alice)));

    // Same type, other key: the blob comparison, not the type, tells them apart.
    Path other = keygen("other-ed25519", "ed25519", 0);
    String reason =
        DecisionSignature.check(sign(other, MESSAGE, "crewchief"), MESSAGE, publicLine(alice));
    assertNotNull(reason);
    assertTrue(reason.contains(sshKeygenFingerprint(other)), reason);
    assertTrue(reason.contains(sshKeygenFingerprint(alice)), reason);
  }

  @Test
  void aSignatureForAnotherNamespaceIsRefused() throws Exception {
    Path key = KEYS.get(KeyType.ED25519);
    String git = sign(key, MESSAGE, "git");
    assertEquals(
        "signed for namespace 'git', expected 'crewchief' (sign with ssh-keygen -Y sign -n"
            + " crewchief)",
        DecisionSignature.check(git, MESSAGE, publicLine(key)));
  }

  @Test
  void garbageIsAReasonNotAnException() throws Exception {
    String line = publicLine(KEYS.get(KeyType.ED25519));
    String valid = sign(KEYS.get(KeyType.ED25519), MESSAGE, "crewchief");
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put(null, "no signature given");
    cases.put("", "no signature given");
    cases.put(" \n\t", "no signature given");
    cases.put("APPROVE", "not an SSH signature (expected -----BEGIN SSH SIGNATURE-----)");
    cases.put(
        "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----",
        "not an SSH signature (expected -----BEGIN SSH SIGNATURE-----)");
    cases.put(BEGIN + "\n" + END, "the SSH signature is empty");
    cases.put(BEGIN + "\n!!!!\n" + END, "its base64 does not decode");
    cases.put(armor("SSHSIG".getBytes(StandardCharsets.US_ASCII)), "truncated");
    cases.put(
        armor("SSHSIH\0\0\0\1".getBytes(StandardCharsets.US_ASCII)), "does not start with SSHSIG");
    cases.put(valid.substring(0, valid.length() / 2), "cut off");
    cases.put(BEGIN + "\n" + "A".repeat(70_000) + "\n" + END, "characters long");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      String reason = DecisionSignature.check(c.getKey(), MESSAGE, line);
      assertNotNull(reason, c.getKey());
      assertTrue(reason.contains(c.getValue()), c.getKey() + " -> " + reason);
    }

    // Cut anywhere, the armor is refused with a reason.
    for (int i = 0; i < valid.strip().length(); i++) {
      assertNotNull(
          DecisionSignature.check(valid.strip().substring(0, i), MESSAGE, line), "cut at " + i);
    }
    assertNull(DecisionSignature.check(valid, MESSAGE, line), "the uncut signature is fine");
  }

  @ParameterizedTest
  @EnumSource(KeyType.class)
  void everyTruncatedOrFlippedBlobIsRefused(KeyType type) throws Exception {
    Path key = KEYS.get(type);
    String line = publicLine(key);
    byte[] blob = blob(sign(key, MESSAGE, "crewchief"));
    assertNull(DecisionSignature.check(armor(blob), MESSAGE, line), "the re-armored blob is fine");
    for (int n = 0; n < blob.length; n++) {
      String reason =
          DecisionSignature.check(armor(java.util.Arrays.copyOf(blob, n)), MESSAGE, line);
      assertNotNull(reason, "truncated to " + n + " bytes");
    }
    for (int i = 0; i < blob.length; i++) {
      for (int bit : new int[] {0x01, 0x80}) {
        byte[] flipped = blob.clone();
        flipped[i] ^= (byte) bit;
        assertNotNull(
            DecisionSignature.check(armor(flipped), MESSAGE, line), "bit " + bit + " of byte " + i);
      }
    }
    byte[] longer = java.util.Arrays.copyOf(blob, blob.length + 1);
    String trailing = DecisionSignature.check(armor(longer), MESSAGE, line);
    assertTrue(trailing.contains("1 unexpected bytes at its end"), trailing);
  }

  @Test
  void signaturesNoSshKeygenMakesAreRefusedWithTheirReason() throws Exception {
    Path rsa = KEYS.get(KeyType.RSA);
    String line = publicLine(rsa);
    Sshsig real = Sshsig.parse(blob(sign(rsa, MESSAGE, "crewchief")));

    // The inner signature of an RSA key: string algorithm, string S. Only the name changes, so
    // SHA-1 is refused by name before anything is verified.
    ByteBuffer inner = ByteBuffer.wrap(real.signature());
    byte[] algorithm = new byte[inner.getInt()];
    inner.get(algorithm);
    assertEquals("rsa-sha2-512", new String(algorithm, StandardCharsets.US_ASCII));
    byte[] s = new byte[inner.getInt()];
    inner.get(s);
    byte[] sha1 = strings("ssh-rsa".getBytes(StandardCharsets.US_ASCII), s);
    String reason =
        DecisionSignature.check(armor(real.withSignature(sha1).encode()), MESSAGE, line);
    assertTrue(reason.contains("ssh-rsa algorithm (SHA-1)"), reason);

    reason = DecisionSignature.check(armor(real.withHash("sha384").encode()), MESSAGE, line);
    assertEquals(
        "the signature uses hash algorithm 'sha384'; only sha256 and sha512 are supported", reason);
    reason = DecisionSignature.check(armor(real.withVersion(2).encode()), MESSAGE, line);
    assertEquals("SSH signature version 2 is not supported (expected 1)", reason);
    reason =
        DecisionSignature.check(armor(real.withReserved(new byte[] {1}).encode()), MESSAGE, line);
    assertTrue(reason.contains("reserved field is not empty"), reason);
    // S is as long as the modulus; one byte more cannot be an RSA signature of this key.
    byte[] longer = new byte[s.length + 1];
    System.arraycopy(s, 0, longer, 1, s.length);
    reason =
        DecisionSignature.check(
            armor(real.withSignature(strings(algorithm, longer)).encode()), MESSAGE, line);
    assertTrue(reason.contains("longer than the key's modulus"), reason);
    assertEquals(
        null,
        DecisionSignature.check(armor(real.encode()), MESSAGE, line),
        "the round trip is exact");
  }

  @Test
  void ed25519KeysOfBothParitiesOfXAreAccepted() throws Exception {
    // The top bit of the last key byte is the parity of x; half of all keys have it set, so a
    // few keys are enough to meet both.
    boolean[] seen = new boolean[2];
    for (int i = 0; i < 64 && !(seen[0] && seen[1]); i++) {
      Path key = keygen("parity-" + i, "ed25519", 0);
      byte[] blob = Base64.getDecoder().decode(publicLine(key).split(" ")[1]);
      int parity = (blob[blob.length - 1] & 0x80) >> 7;
      if (!seen[parity]) {
        seen[parity] = true;
        assertNull(
            DecisionSignature.check(sign(key, MESSAGE, "crewchief"), MESSAGE, publicLine(key)),
            "x parity " + parity);
      }
    }
    assertTrue(seen[0] && seen[1], "met keys of both parities");
  }

  @Test
  void ed25519PointsOffTheCurveAreRefusedAsTheJdkRefusesThem() throws Exception {
    // The JDK builds an Ed25519 key from any y and refuses an off-curve one only when it
    // verifies; its own decoding is the reference for the check done for checkPublicKey.
    int refused = 0;
    for (int y = 0; y < 64; y++) {
      for (boolean xOdd : new boolean[] {false, true}) {
        byte[] raw = new byte[32];
        raw[0] = (byte) y;
        raw[31] = (byte) (xOdd ? 0x80 : 0);
        String line = "ssh-ed25519 " + b64(strings(bytes("ssh-ed25519"), raw));
        boolean jdkRefuses;
        java.security.PublicKey key =
            java.security.KeyFactory.getInstance("Ed25519")
                .generatePublic(
                    new java.security.spec.EdECPublicKeySpec(
                        java.security.spec.NamedParameterSpec.ED25519,
                        new java.security.spec.EdECPoint(xOdd, java.math.BigInteger.valueOf(y))));
        try {
          java.security.Signature.getInstance("Ed25519").initVerify(key);
          jdkRefuses = false;
        } catch (java.security.InvalidKeyException e) {
          jdkRefuses = true;
        }
        String reason = DecisionSignature.checkPublicKey(line);
        assertEquals(jdkRefuses, reason != null, "y=" + y + " xOdd=" + xOdd + ": " + reason);
        if (reason != null) {
          assertEquals("the ssh-ed25519 public key is not a point of the curve", reason);
          refused++;
        }
      }
    }
    assertTrue(refused > 10 && refused < 118, refused + " of 128 refused");
  }

  @Test
  void rsaSha2With256BitsIsAcceptedLikeSshKeygenAcceptsIt() throws Exception {
    // ssh-keygen always signs with rsa-sha2-512, so this signature is made here from the same
    // private key (exported as PKCS#8) and the signed data as PROTOCOL.sshsig defines it; the
    // real ssh-keygen confirms that it is a valid signature before this class is asked.
    Path rsa = KEYS.get(KeyType.RSA);
    Path pkcs8 = dir.resolve("rsa-pkcs8");
    Files.copy(rsa, pkcs8);
    Result export =
        run(
            null,
            "ssh-keygen",
            "-q",
            "-p",
            "-m",
            "PKCS8",
            "-N",
            "",
            "-P",
            "",
            "-f",
            pkcs8.toString());
    assertEquals(0, export.exit(), export.err());
    String pem = Files.readString(pkcs8).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    java.security.PrivateKey privateKey =
        java.security.KeyFactory.getInstance("RSA")
            .generatePrivate(
                new java.security.spec.PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));

    Sshsig real = Sshsig.parse(blob(sign(rsa, MESSAGE, "crewchief")));
    byte[] hash = java.security.MessageDigest.getInstance("SHA-512").digest(MESSAGE);
    ByteArrayOutputStream signed = new ByteArrayOutputStream();
    signed.write(bytes("SSHSIG"));
    signed.write(strings(bytes("crewchief"), new byte[0], bytes("sha512"), hash));
    java.security.Signature signer = java.security.Signature.getInstance("SHA256withRSA");
    signer.initSign(privateKey);
    signer.update(signed.toByteArray());
    byte[] inner = strings(bytes("rsa-sha2-256"), signer.sign());
    String sha256 = armor(real.withSignature(inner).encode());

    assertTrue(sshKeygenAccepts(sha256, MESSAGE), "ssh-keygen accepts rsa-sha2-256");
    assertNull(DecisionSignature.check(sha256, MESSAGE, publicLine(rsa)));
    byte[] rejected =
        DecisionSignature.message(
            "release-randopony-prod-1.2.3", "confirm-release", "REJECT", "alice", AT);
    assertTrue(
        DecisionSignature.check(sha256, rejected, publicLine(rsa)).contains("does not match"));
  }

  @Test
  void checkPublicKeySaysWhatIsWrongWithALine() throws Exception {
    String ed25519 = publicLine(KEYS.get(KeyType.ED25519));
    String ed25519Base64 = ed25519.split(" ")[1];
    byte[] ed25519Blob = Base64.getDecoder().decode(ed25519Base64);
    String rsa = publicLine(KEYS.get(KeyType.RSA));
    for (KeyType t : KeyType.values()) {
      String line = publicLine(KEYS.get(t));
      assertNull(DecisionSignature.checkPublicKey(line), line);
      assertNull(DecisionSignature.checkPublicKey(line.split(" ")[0] + " " + line.split(" ")[1]));
      assertNull(DecisionSignature.checkPublicKey("  " + line + "\n"));
    }

    Path small = keygen("rsa1024", "rsa", 1024);
    Path dsa = keygen("dsa", "dsa", 0);
    Path ca = keygen("ca", "ed25519", 0);
    Path pub = KEYS.get(KeyType.ED25519).resolveSibling("ed25519.pub");
    run(
        null,
        "ssh-keygen",
        "-q",
        "-s",
        ca.toString(),
        "-I",
        "alice",
        "-n",
        "alice",
        pub.toString());
    String cert = Files.readString(pub.resolveSibling("ed25519-cert.pub")).strip();

    byte[] badPoint =
        Base64.getDecoder().decode(publicLine(KEYS.get(KeyType.ECDSA256)).split(" ")[1]);
    badPoint[badPoint.length - 1] ^= 1;
    byte[] yTooLarge = ed25519Blob.clone();
    for (int i = yTooLarge.length - 32; i < yTooLarge.length; i++) {
      yTooLarge[i] = (byte) 0xff;
    }
    yTooLarge[yTooLarge.length - 1] = 0x7f;

    Map<String, String> bad = new java.util.LinkedHashMap<>();
    bad.put(null, "no public key given");
    bad.put("", "no public key given");
    bad.put("ssh-ed25519", "is not a public key line");
    bad.put("ssh-ed25519 !!!!", "its base64 does not decode");
    bad.put(
        "ssh-rsa " + ed25519Base64 + " alice",
        "the line says 'ssh-rsa' but the key in it is ssh-ed25519");
    bad.put("alice@example.com " + ed25519, "before the key type");
    bad.put("restrict " + ed25519, "before the key type");
    bad.put(Files.readString(KEYS.get(KeyType.ED25519)), "not an OpenSSH public key line");
    bad.put(
        "ssh-ed25519 " + b64(java.util.Arrays.copyOf(ed25519Blob, ed25519Blob.length - 1)),
        "truncated");
    bad.put(
        "ssh-ed25519 " + b64(java.util.Arrays.copyOf(ed25519Blob, ed25519Blob.length + 1)),
        "unexpected bytes");
    bad.put(
        "ssh-ed25519 " + b64(strings(bytes("ssh-ed25519"), new byte[31])),
        "has 31 bytes, expected 32");
    bad.put("ssh-ed25519 " + b64(yTooLarge), "not a point of the curve");
    bad.put("ecdsa-sha2-nistp256 " + b64(badPoint), "not a point of the curve nistp256");
    bad.put(publicLine(small), "1024 bits, too few");
    bad.put(publicLine(dsa), "DSA keys (ssh-dss) are obsolete");
    bad.put(cert, "SSH certificates (ssh-ed25519-cert-v01@openssh.com) are not supported");
    bad.put(
        "sk-ssh-ed25519@openssh.com "
            + b64(strings(bytes("sk-ssh-ed25519@openssh.com"), new byte[32], bytes("ssh:"))),
        "security-key (FIDO) keys (sk-ssh-ed25519@openssh.com) are not supported");
    bad.put("ssh-foo " + b64(strings(bytes("ssh-foo"))), "key type 'ssh-foo' is not supported");
    for (Map.Entry<String, String> c : bad.entrySet()) {
      String reason = DecisionSignature.checkPublicKey(c.getKey());
      assertNotNull(reason, c.getKey());
      assertTrue(reason.contains(c.getValue()), c.getKey() + " -> " + reason);
    }

    // A signature cannot be checked against an unusable configured key, and says why.
    String signature = sign(KEYS.get(KeyType.ED25519), MESSAGE, "crewchief");
    String reason = DecisionSignature.check(signature, MESSAGE, "ssh-ed25519");
    assertTrue(
        reason.startsWith("the approver's configured key cannot check signatures: "), reason);
    assertNotNull(DecisionSignature.check(signature, MESSAGE, rsa));
  }

  @Test
  void fingerprintsAreThoseSshKeygenPrints() throws Exception {
    for (KeyType t : KeyType.values()) {
      Path key = KEYS.get(t);
      assertEquals(sshKeygenFingerprint(key), DecisionSignature.fingerprint(publicLine(key)));
    }
    // Keys this class refuses are still fingerprinted, so a refusal can name them.
    Path dsa = keygen("dsa-fp", "dsa", 0);
    assertEquals(sshKeygenFingerprint(dsa), DecisionSignature.fingerprint(publicLine(dsa)));
    assertNotEquals(
        DecisionSignature.fingerprint(publicLine(KEYS.get(KeyType.ED25519))),
        DecisionSignature.fingerprint(publicLine(KEYS.get(KeyType.RSA))));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> DecisionSignature.fingerprint("ssh-ed25519 %%%"));
    assertTrue(e.getMessage().contains("base64"), e.getMessage());
  }

  // --- ssh-keygen and the SSHSIG format, as the tests see them ---

  private record Result(int exit, String out, String err) {}

  private static Result run(byte[] stdin, String... command) throws Exception {
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process p =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    try (var in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin);
      }
    }
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " finished");
    Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  private static Path keygen(String name, String type, int bits) throws Exception {
    Path key = dir.resolve(name);
    List<String> cmd = new ArrayList<>(List.of("ssh-keygen", "-q", "-t", type));
    if (bits > 0) {
      cmd.addAll(List.of("-b", String.valueOf(bits)));
    }
    cmd.addAll(List.of("-N", "", "-C", name + "@laptop", "-f", key.toString()));
    Result r = run(null, cmd.toArray(String[]::new));
    assertEquals(0, r.exit(), r.err());
    return key;
  }

  private static String publicLine(Path key) throws IOException {
    return Files.readString(key.resolveSibling(key.getFileName() + ".pub")).strip();
  }

  /**
   * With no file argument, ssh-keygen 9.2 signs standard input and writes the armor to standard
   * output; a file argument would write FILE.sig instead (and ask before overwriting one).
   */
  private static String sign(Path key, byte[] message, String namespace, String... options)
      throws Exception {
    List<String> cmd =
        new ArrayList<>(List.of("ssh-keygen", "-Y", "sign", "-n", namespace, "-f", key.toString()));
    cmd.addAll(List.of(options));
    Result r = run(message, cmd.toArray(String[]::new));
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().startsWith(BEGIN), r.out());
    return r.out();
  }

  private static boolean sshKeygenAccepts(String signature, byte[] message) throws Exception {
    Path sig = Files.createTempFile(dir, "sig", ".sig");
    Files.writeString(sig, signature);
    Result r =
        run(
            message,
            "ssh-keygen",
            "-Y",
            "check-novalidate",
            "-n",
            "crewchief",
            "-s",
            sig.toString());
    Files.delete(sig);
    assertEquals(
        r.exit() == 0, r.out().contains("Good \"crewchief\" signature"), r.out() + r.err());
    return r.exit() == 0;
  }

  private static String sshKeygenFingerprint(Path key) throws Exception {
    Result r =
        run(null, "ssh-keygen", "-lf", key.resolveSibling(key.getFileName() + ".pub").toString());
    assertEquals(0, r.exit(), r.err());
    return r.out().split(" ")[1];
  }

  private static byte[] blob(String armored) {
    String body = armored.strip();
    body = body.substring(BEGIN.length(), body.length() - END.length()).replaceAll("\\s", "");
    return Base64.getDecoder().decode(body);
  }

  private static boolean blobContains(String armored, String text) {
    return new String(blob(armored), StandardCharsets.ISO_8859_1).contains(text);
  }

  private static String armor(byte[] blob) {
    return BEGIN
        + "\n"
        + Base64.getMimeEncoder(70, new byte[] {'\n'}).encodeToString(blob)
        + "\n"
        + END
        + "\n";
  }

  private static String b64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

  private static byte[] bytes(String ascii) {
    return ascii.getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] strings(byte[]... fields) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    for (byte[] f : fields) {
      out.writeInt(f.length);
      out.write(f);
    }
    return bytes.toByteArray();
  }

  /** The fields of an SSHSIG blob, to make the signatures ssh-keygen will not make. */
  private record Sshsig(
      int version, byte[] key, byte[] namespace, byte[] reserved, byte[] hash, byte[] signature) {
    static Sshsig parse(byte[] blob) {
      ByteBuffer b = ByteBuffer.wrap(blob);
      byte[] magic = new byte[6];
      b.get(magic);
      assertEquals("SSHSIG", new String(magic, StandardCharsets.US_ASCII));
      return new Sshsig(b.getInt(), next(b), next(b), next(b), next(b), next(b));
    }

    private static byte[] next(ByteBuffer b) {
      byte[] f = new byte[b.getInt()];
      b.get(f);
      return f;
    }

    byte[] encode() throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      bytes.write(DecisionSignatureTest.bytes("SSHSIG"));
      new DataOutputStream(bytes).writeInt(version);
      bytes.write(strings(key, namespace, reserved, hash, signature));
      return bytes.toByteArray();
    }

    Sshsig withSignature(byte[] s) {
      return new Sshsig(version, key, namespace, reserved, hash, s);
    }

    Sshsig withHash(String h) {
      return new Sshsig(
          version, key, namespace, reserved, DecisionSignatureTest.bytes(h), signature);
    }

    Sshsig withVersion(int v) {
      return new Sshsig(v, key, namespace, reserved, hash, signature);
    }

    Sshsig withReserved(byte[] r) {
      return new Sshsig(version, key, namespace, r, hash, signature);
    }
  }
}

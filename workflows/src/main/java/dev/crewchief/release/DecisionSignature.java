package dev.crewchief.release;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECField;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Arrays;
import java.util.Base64;

/**
 * SSH signatures of gate decisions (OpenSSH's SSHSIG format, as made by {@code ssh-keygen -Y sign
 * -n crewchief}), checked against an approver's configured OpenSSH public key.
 *
 * <p>This runs inside workflow code, so it must give the same answer on every replay: it uses only
 * the JDK's cryptography and byte arrays, never files, the network, the clock, randomness or the
 * environment. It never throws for bad input either, because an exception in workflow code fails
 * the workflow task over and over instead of telling the approver what to fix: every problem comes
 * back as a reason a person can act on.
 */
public final class DecisionSignature {
  public static final String NAMESPACE = "crewchief";

  private static final String BEGIN = "-----BEGIN SSH SIGNATURE-----";
  private static final String END = "-----END SSH SIGNATURE-----";
  private static final byte[] MAGIC = {'S', 'S', 'H', 'S', 'I', 'G'};

  /**
   * A signature by the largest RSA key OpenSSH accepts (16384 bits) is about 6 KiB of armor; the
   * limit keeps a pasted log file or a hostile payload from being decoded at all.
   */
  private static final int MAX_ARMOR_CHARS = 64 * 1024;

  /**
   * Approvals let a release reach production, so keys weaker than NIST allows since 2013 are
   * refused even though OpenSSH still accepts 1024-bit RSA.
   */
  private static final int MIN_RSA_BITS = 2048;

  /** OpenSSH's own ceiling for RSA moduli (SSHBUF_MAX_BIGNUM). */
  private static final int MAX_RSA_BITS = 16384;

  private static final BigInteger P25519 =
      BigInteger.ONE.shiftLeft(255).subtract(BigInteger.valueOf(19));
  private static final BigInteger D25519 =
      BigInteger.valueOf(-121665)
          .multiply(BigInteger.valueOf(121666).modInverse(P25519))
          .mod(P25519);

  private static final String SUPPORTED =
      "ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa (2048 bits or more)";

  private DecisionSignature() {}

  /**
   * The exact bytes an approver signs for a gate decision: UTF-8 text, one field a line.
   *
   * @throws IllegalArgumentException when a field is missing, holds a line break (which would let
   *     one field pose as another) or is not valid Unicode
   */
  public static byte[] message(
      String releaseId, String gate, String decision, String approver, java.time.Instant issuedAt) {
    return message(releaseId, gate, decision, approver, issuedAt, null);
  }

  /**
   * The same with the option chosen at a gate that offers choices: a line {@code choice: X} after
   * the others, so that a signature over one choice cannot be replayed for another; without a
   * choice the message is exactly as before choices existed.
   */
  public static byte[] message(
      String releaseId,
      String gate,
      String decision,
      String approver,
      java.time.Instant issuedAt,
      String choice) {
    if (issuedAt == null) {
      throw new IllegalArgumentException("the decision has no issued-at time");
    }
    String text =
        "crewchief gate decision v1\n"
            + line("release", releaseId)
            + line("gate", gate)
            + line("decision", decision)
            + line("approver", approver)
            + line("issued-at", issuedAt.toString())
            + (choice == null ? "" : line("choice", choice));
    return utf8(text);
  }

  /**
   * Checks an armored SSH signature of {@code message} against the approver's configured key.
   *
   * @param armored the signature as {@code ssh-keygen -Y sign -n crewchief} writes it
   * @param message the bytes from {@link #message}
   * @param publicKey the approver's OpenSSH public key line, e.g. {@code ssh-ed25519 AAAAC3...
   *     alice@laptop}
   * @return null when the signature is valid, else what is wrong
   */
  public static String check(String armored, byte[] message, String publicKey) {
    try {
      return verify(armored, message, publicKey);
    } catch (Refused e) {
      return e.getMessage();
    } catch (GeneralSecurityException | RuntimeException e) {
      // The parsing above should leave nothing for the JDK to object to; if it still does, the
      // signature is refused with the JDK's words rather than failing the workflow task.
      return "the signature could not be checked: " + e;
    }
  }

  /** Null when the line is an OpenSSH public key this class can verify, else what is wrong. */
  public static String checkPublicKey(String line) {
    try {
      parseLine(line);
      return null;
    } catch (Refused e) {
      return e.getMessage();
    } catch (RuntimeException e) {
      return "the public key could not be read: " + e;
    }
  }

  /**
   * The key's fingerprint as {@code ssh-keygen -l} prints it: {@code SHA256:} and the unpadded
   * base64 of the SHA-256 of the key blob. Any key type is fingerprinted, supported or not, so a
   * refusal can name the key it refuses.
   *
   * @throws IllegalArgumentException when the line has no base64 key blob (see {@link
   *     #checkPublicKey})
   */
  public static String fingerprint(String publicKeyLine) {
    try {
      return fingerprintOf(blobOf(publicKeyLine));
    } catch (Refused e) {
      throw new IllegalArgumentException(e.getMessage());
    }
  }

  private static String verify(String armored, byte[] message, String publicKey)
      throws Refused, GeneralSecurityException {
    if (message == null) {
      return "there is no decision to check the signature against";
    }
    SshKey configured;
    try {
      configured = parseLine(publicKey);
    } catch (Refused e) {
      return "the approver's configured key cannot check signatures: " + e.getMessage();
    }

    Reader sshsig = new Reader(dearmor(armored), "signature");
    if (!Arrays.equals(sshsig.raw(MAGIC.length), MAGIC)) {
      return "not an SSH signature (its content does not start with SSHSIG)";
    }
    long version = sshsig.uint32();
    if (version != 1) {
      return "SSH signature version " + version + " is not supported (expected 1)";
    }
    byte[] signer = sshsig.string();
    byte[] namespace = sshsig.string();
    byte[] reserved = sshsig.string();
    byte[] hashAlgorithm = sshsig.string();
    byte[] signature = sshsig.string();
    sshsig.end();

    // Comparing the blobs first gives the most useful answer when someone signed with the wrong
    // key, and it means only the configured key, which has been validated, is ever used.
    if (!Arrays.equals(signer, configured.blob())) {
      return "the signature was made with another key ("
          + fingerprintOf(signer)
          + ") than the approver's configured key ("
          + fingerprintOf(configured.blob())
          + ")";
    }
    String ns = latin1(namespace);
    if (!ns.equals(NAMESPACE)) {
      return "signed for namespace '"
          + shown(ns)
          + "', expected '"
          + NAMESPACE
          + "' (sign with ssh-keygen -Y sign -n "
          + NAMESPACE
          + ")";
    }
    if (reserved.length != 0) {
      // OpenSSH signs an empty reserved field whatever the blob says, so a filled one is from
      // another tool and could never verify: say so rather than blame the decision.
      return "the signature's reserved field is not empty (it was not made by ssh-keygen -Y sign)";
    }
    String hash = latin1(hashAlgorithm);
    String digest;
    if (hash.equals("sha256")) {
      digest = "SHA-256";
    } else if (hash.equals("sha512")) {
      digest = "SHA-512";
    } else {
      return "the signature uses hash algorithm '"
          + shown(hash)
          + "'; only sha256 and sha512 are supported";
    }

    Reader inner = new Reader(signature, "signature");
    String algorithm = inner.ascii();
    byte[] sigBlob = inner.string();
    inner.end();
    Signature verifier = Signature.getInstance(configured.jcaAlgorithm(algorithm));
    byte[] jcaSignature = configured.jcaSignature(algorithm, sigBlob);

    Bytes signed = new Bytes();
    signed.raw(MAGIC).string(namespace).string(new byte[0]).string(hashAlgorithm);
    signed.string(MessageDigest.getInstance(digest).digest(message));

    verifier.initVerify(configured.key());
    verifier.update(signed.toArray());
    if (!verifier.verify(jcaSignature)) {
      return "the signature does not match the decision"
          + " (release, gate, decision, approver or issued-at differ)";
    }
    return null;
  }

  private static byte[] dearmor(String armored) throws Refused {
    if (armored == null || armored.isBlank()) {
      throw new Refused("no signature given (expected " + BEGIN + ")");
    }
    if (armored.length() > MAX_ARMOR_CHARS) {
      throw new Refused(
          "the signature is "
              + armored.length()
              + " characters long; an SSH signature is at most a few thousand");
    }
    String text = armored.strip();
    if (!text.startsWith(BEGIN)) {
      throw new Refused("not an SSH signature (expected " + BEGIN + ")");
    }
    if (!text.endsWith(END)) {
      throw new Refused("the SSH signature is cut off (it does not end with " + END + ")");
    }
    StringBuilder base64 = new StringBuilder();
    for (char c : text.substring(BEGIN.length(), text.length() - END.length()).toCharArray()) {
      if (c != '\n' && c != '\r' && c != ' ' && c != '\t') {
        base64.append(c);
      }
    }
    if (base64.length() == 0) {
      throw new Refused("the SSH signature is empty");
    }
    try {
      return Base64.getDecoder().decode(base64.toString());
    } catch (IllegalArgumentException e) {
      throw new Refused("the SSH signature is damaged (its base64 does not decode)");
    }
  }

  private static byte[] blobOf(String line) throws Refused {
    if (line == null || line.isBlank()) {
      throw new Refused("no public key given (expected 'TYPE BASE64 [COMMENT]' as in a .pub file)");
    }
    String[] parts = line.strip().split("\\s+", 3);
    if (parts[0].startsWith("-----BEGIN")) {
      throw new Refused(
          "that is a private key or a PEM file, not an OpenSSH public key line: use the content of"
              + " the .pub file");
    }
    if (parts.length < 2) {
      throw new Refused(
          "'" + shown(parts[0]) + "' is not a public key line (expected 'TYPE BASE64 [COMMENT]')");
    }
    if (looksLikeType(parts[1])) {
      throw new Refused(
          "the line has '"
              + shown(parts[0])
              + "' before the key type: give only 'TYPE BASE64 [COMMENT]', not an allowed_signers"
              + " or authorized_keys line");
    }
    try {
      return Base64.getDecoder().decode(parts[1]);
    } catch (IllegalArgumentException e) {
      throw new Refused("the public key is damaged (its base64 does not decode)");
    }
  }

  private static SshKey parseLine(String line) throws Refused {
    byte[] blob = blobOf(line);
    String declared = line.strip().split("\\s+", 3)[0];
    SshKey key = parseBlob(blob);
    if (!declared.equals(key.type())) {
      throw new Refused(
          "the line says '" + shown(declared) + "' but the key in it is " + key.type());
    }
    return key;
  }

  private static boolean looksLikeType(String token) {
    return token.startsWith("ssh-")
        || token.startsWith("ecdsa-")
        || token.startsWith("sk-")
        || token.startsWith("rsa-");
  }

  private static SshKey parseBlob(byte[] blob) throws Refused {
    Reader r = new Reader(blob, "public key");
    String type = r.ascii();
    try {
      switch (type) {
        case "ssh-ed25519":
          return ed25519(r, blob);
        case "ssh-rsa":
          return rsa(r, blob);
        case "ecdsa-sha2-nistp256":
          return ecdsa(r, blob, type, "nistp256", "secp256r1", "SHA256");
        case "ecdsa-sha2-nistp384":
          return ecdsa(r, blob, type, "nistp384", "secp384r1", "SHA384");
        case "ecdsa-sha2-nistp521":
          return ecdsa(r, blob, type, "nistp521", "secp521r1", "SHA512");
        default:
          throw new Refused(unsupported(type));
      }
    } catch (GeneralSecurityException e) {
      throw new Refused("the " + type + " public key is not valid (" + e.getMessage() + ")");
    }
  }

  private static String unsupported(String type) {
    String t = shown(type);
    if (type.contains("-cert-")) {
      return "SSH certificates (" + t + ") are not supported: configure the plain public key";
    }
    if (type.startsWith("sk-")) {
      return "security-key (FIDO) keys (" + t + ") are not supported: use " + SUPPORTED;
    }
    if (type.equals("ssh-dss")) {
      return "DSA keys (ssh-dss) are obsolete and not supported: use " + SUPPORTED;
    }
    return "key type '" + t + "' is not supported: use " + SUPPORTED;
  }

  private static SshKey ed25519(Reader r, byte[] blob) throws Refused, GeneralSecurityException {
    byte[] raw = r.string();
    r.end();
    if (raw.length != 32) {
      throw new Refused("the ssh-ed25519 public key has " + raw.length + " bytes, expected 32");
    }
    // RFC 8032 encodes the point as y in little-endian order, with the parity of x in the top bit.
    boolean xOdd = (raw[31] & 0x80) != 0;
    byte[] bigEndian = new byte[32];
    for (int i = 0; i < 32; i++) {
      bigEndian[i] = raw[31 - i];
    }
    bigEndian[0] &= 0x7f;
    BigInteger y = new BigInteger(1, bigEndian);
    if (!onEd25519(y, xOdd)) {
      throw new Refused("the ssh-ed25519 public key is not a point of the curve");
    }
    PublicKey key =
        KeyFactory.getInstance("Ed25519")
            .generatePublic(
                new EdECPublicKeySpec(NamedParameterSpec.ED25519, new EdECPoint(xOdd, y)));
    return new SshKey("ssh-ed25519", blob, key, 0);
  }

  /**
   * The JDK builds a key from any y and only fails when it verifies, so the point is checked here
   * for {@link #checkPublicKey}: y must be reduced and x² = (y² - 1) / (d·y² + 1) must have a root.
   */
  private static boolean onEd25519(BigInteger y, boolean xOdd) {
    if (y.compareTo(P25519) >= 0) {
      return false;
    }
    BigInteger y2 = y.multiply(y).mod(P25519);
    BigInteger u = y2.subtract(BigInteger.ONE).mod(P25519);
    BigInteger v = D25519.multiply(y2).add(BigInteger.ONE).mod(P25519);
    BigInteger x2 = u.multiply(v.modInverse(P25519)).mod(P25519);
    if (x2.signum() == 0) {
      return !xOdd;
    }
    BigInteger euler = P25519.subtract(BigInteger.ONE).shiftRight(1);
    return x2.modPow(euler, P25519).equals(BigInteger.ONE);
  }

  private static SshKey rsa(Reader r, byte[] blob) throws Refused, GeneralSecurityException {
    BigInteger e = r.mpint();
    BigInteger n = r.mpint();
    r.end();
    if (n.bitLength() < MIN_RSA_BITS) {
      throw new Refused(
          "the ssh-rsa key has "
              + n.bitLength()
              + " bits, too few to approve releases: use a key of "
              + MIN_RSA_BITS
              + " bits or more (ssh-keygen -t ed25519 is better still)");
    }
    if (n.bitLength() > MAX_RSA_BITS) {
      throw new Refused(
          "the ssh-rsa key has " + n.bitLength() + " bits, more than OpenSSH's " + MAX_RSA_BITS);
    }
    if (e.compareTo(BigInteger.valueOf(3)) < 0 || !e.testBit(0) || !n.testBit(0)) {
      throw new Refused("the ssh-rsa key is not valid (its exponent or modulus is impossible)");
    }
    PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e));
    return new SshKey("ssh-rsa", blob, key, (n.bitLength() + 7) / 8);
  }

  private static SshKey ecdsa(
      Reader r, byte[] blob, String type, String curve, String jdkCurve, String hash)
      throws Refused, GeneralSecurityException {
    String named = r.ascii();
    if (!named.equals(curve)) {
      throw new Refused(
          "the " + type + " key names curve '" + shown(named) + "', expected " + curve);
    }
    byte[] q = r.string();
    r.end();
    AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
    parameters.init(new ECGenParameterSpec(jdkCurve));
    ECParameterSpec spec = parameters.getParameterSpec(ECParameterSpec.class);
    ECField field = spec.getCurve().getField();
    BigInteger p = ((ECFieldFp) field).getP();
    int size = (field.getFieldSize() + 7) / 8;
    // OpenSSH writes the point uncompressed: 0x04, then x and y of the field's size each.
    if (q.length != 1 + 2 * size || q[0] != 4) {
      throw new Refused("the " + type + " key's point is not an uncompressed point of " + curve);
    }
    BigInteger x = new BigInteger(1, Arrays.copyOfRange(q, 1, 1 + size));
    BigInteger y = new BigInteger(1, Arrays.copyOfRange(q, 1 + size, q.length));
    BigInteger rhs =
        x.pow(3).add(spec.getCurve().getA().multiply(x)).add(spec.getCurve().getB()).mod(p);
    if (x.compareTo(p) >= 0 || y.compareTo(p) >= 0 || !y.multiply(y).mod(p).equals(rhs)) {
      throw new Refused("the " + type + " key is not a point of the curve " + curve);
    }
    PublicKey key =
        KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(x, y), spec));
    return new SshKey(type, blob, key, (spec.getOrder().bitLength() + 7) / 8, hash);
  }

  private static String fingerprintOf(byte[] blob) {
    try {
      byte[] sha256 = MessageDigest.getInstance("SHA-256").digest(blob);
      return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(sha256);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  private static String line(String name, String value) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("the decision has no " + name);
    }
    if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
      throw new IllegalArgumentException(
          "the decision's "
              + name
              + " has a line break, which would make the signed text ambiguous");
    }
    return name + ": " + value + "\n";
  }

  /**
   * UTF-8 by hand, because the JDK's encoders live in java.nio.charset, which workflow code keeps
   * away from. Unpaired surrogates are refused rather than replaced, so two different decisions can
   * never produce the same bytes.
   */
  private static byte[] utf8(String text) {
    Bytes out = new Bytes();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      int cp = c;
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        cp = Character.toCodePoint(c, text.charAt(++i));
      } else if (Character.isSurrogate(c)) {
        throw new IllegalArgumentException("the decision has text that is not valid Unicode");
      }
      if (cp < 0x80) {
        out.add(cp);
      } else if (cp < 0x800) {
        out.add(0xc0 | (cp >> 6)).add(0x80 | (cp & 0x3f));
      } else if (cp < 0x10000) {
        out.add(0xe0 | (cp >> 12)).add(0x80 | ((cp >> 6) & 0x3f)).add(0x80 | (cp & 0x3f));
      } else {
        out.add(0xf0 | (cp >> 18))
            .add(0x80 | ((cp >> 12) & 0x3f))
            .add(0x80 | ((cp >> 6) & 0x3f))
            .add(0x80 | (cp & 0x3f));
      }
    }
    return out.toArray();
  }

  private static String latin1(byte[] bytes) {
    char[] chars = new char[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      chars[i] = (char) (bytes[i] & 0xff);
    }
    return new String(chars);
  }

  /** Text from a signature, made safe to put in a reason: printable ASCII, and not too long. */
  private static String shown(String untrusted) {
    StringBuilder b = new StringBuilder();
    for (char c : untrusted.toCharArray()) {
      if (b.length() == 60) {
        return b + "...";
      }
      b.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return b.toString();
  }

  /** A public key this class can verify with, and how its SSH signatures map onto the JDK's. */
  private record SshKey(String type, byte[] blob, PublicKey key, int size, String ecdsaHash) {
    SshKey(String type, byte[] blob, PublicKey key, int size) {
      this(type, blob, key, size, null);
    }

    String jcaAlgorithm(String algorithm) throws Refused {
      if (type.equals("ssh-ed25519") && algorithm.equals(type)) {
        return "Ed25519";
      }
      if (type.equals("ssh-rsa")) {
        switch (algorithm) {
          case "rsa-sha2-256":
            return "SHA256withRSA";
          case "rsa-sha2-512":
            return "SHA512withRSA";
          case "ssh-rsa":
            throw new Refused(
                "the signature uses the ssh-rsa algorithm (SHA-1), which is no longer safe: sign"
                    + " with a current ssh-keygen, which uses rsa-sha2-512");
          default:
            break;
        }
      }
      if (ecdsaHash != null && algorithm.equals(type)) {
        // P1363 is the fixed-width r||s form, built from the SSH mpints below; it spares the DER
        // encoding the plain SHAxxxwithECDSA algorithms expect.
        return ecdsaHash + "withECDSAinP1363Format";
      }
      throw new Refused(
          "the signature's algorithm '" + shown(algorithm) + "' does not fit the " + type + " key");
    }

    byte[] jcaSignature(String algorithm, byte[] sigBlob) throws Refused {
      if (type.equals("ssh-ed25519")) {
        if (sigBlob.length != 64) {
          throw new Refused(
              "the ssh-ed25519 signature has " + sigBlob.length + " bytes, expected 64");
        }
        return sigBlob;
      }
      if (type.equals("ssh-rsa")) {
        // Some signers drop leading zero bytes of S; the JDK wants exactly the modulus' length.
        if (sigBlob.length > size) {
          throw new Refused("the " + algorithm + " signature is longer than the key's modulus");
        }
        byte[] padded = new byte[size];
        System.arraycopy(sigBlob, 0, padded, size - sigBlob.length, sigBlob.length);
        return padded;
      }
      Reader r = new Reader(sigBlob, "signature");
      BigInteger rr = r.mpint();
      BigInteger s = r.mpint();
      r.end();
      byte[] p1363 = new byte[2 * size];
      if (!fixed(rr, p1363, 0, size) || !fixed(s, p1363, size, size)) {
        throw new Refused("the " + algorithm + " signature's numbers are out of range");
      }
      return p1363;
    }

    private static boolean fixed(BigInteger n, byte[] out, int offset, int size) {
      if (n.signum() <= 0 || n.bitLength() > 8 * size) {
        return false;
      }
      byte[] b = n.toByteArray();
      int skip = b.length > size ? b.length - size : 0;
      System.arraycopy(b, skip, out, offset + size - (b.length - skip), b.length - skip);
      return true;
    }
  }

  /** Reads SSH wire encoding (RFC 4251): uint32, length-prefixed strings, mpints. */
  private static final class Reader {
    private final byte[] data;
    private final String what;
    private int pos;

    Reader(byte[] data, String what) {
      this.data = data;
      this.what = what;
    }

    byte[] raw(int n) throws Refused {
      if (n > data.length - pos) {
        throw new Refused("the " + what + " is truncated or damaged (a field runs past its end)");
      }
      byte[] out = Arrays.copyOfRange(data, pos, pos + n);
      pos += n;
      return out;
    }

    long uint32() throws Refused {
      byte[] b = raw(4);
      return (b[0] & 0xffL) << 24 | (b[1] & 0xffL) << 16 | (b[2] & 0xffL) << 8 | (b[3] & 0xffL);
    }

    byte[] string() throws Refused {
      long length = uint32();
      if (length > data.length - pos) {
        throw new Refused("the " + what + " is truncated or damaged (a field runs past its end)");
      }
      return raw((int) length);
    }

    String ascii() throws Refused {
      return latin1(string());
    }

    /** A non-negative mpint, minimally encoded as OpenSSH requires. */
    BigInteger mpint() throws Refused {
      byte[] b = string();
      if (b.length > 0 && (b[0] & 0x80) != 0) {
        throw new Refused("the " + what + " holds a negative number");
      }
      if (b.length > 1 && b[0] == 0 && (b[1] & 0x80) == 0) {
        throw new Refused("the " + what + " holds a number with a needless leading zero");
      }
      return new BigInteger(1, b);
    }

    void end() throws Refused {
      if (pos != data.length) {
        throw new Refused(
            "the " + what + " has " + (data.length - pos) + " unexpected bytes at its end");
      }
    }
  }

  /** A growing byte array: java.io's ByteArrayOutputStream is off limits in workflow code. */
  private static final class Bytes {
    private byte[] data = new byte[256];
    private int size;

    Bytes add(int b) {
      if (size == data.length) {
        data = Arrays.copyOf(data, 2 * size);
      }
      data[size++] = (byte) b;
      return this;
    }

    Bytes raw(byte[] bytes) {
      for (byte b : bytes) {
        add(b);
      }
      return this;
    }

    Bytes string(byte[] bytes) {
      int n = bytes.length;
      return add(n >>> 24).add(n >>> 16).add(n >>> 8).add(n).raw(bytes);
    }

    byte[] toArray() {
      return Arrays.copyOf(data, size);
    }
  }

  /** A reason to refuse, carried out of the parsing; cheap because it has no stack trace. */
  private static final class Refused extends Exception {
    Refused(String reason) {
      super(reason, null, false, false);
    }
  }
}

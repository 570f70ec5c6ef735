package dev.crewchief.adapters.mail;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.MailActivities;
import dev.crewchief.activities.MailRequest;
import dev.crewchief.activities.MailServerRef;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.failure.ApplicationFailure;
import jakarta.mail.Address;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link MailActivities} over SMTP with Jakarta Mail (Eclipse Angus).
 *
 * <p>One activity attempt is one SMTP session and at most one {@code DATA}: Jakarta Mail does not
 * retry by itself, and nothing here does either, so a message can only go out twice when Temporal
 * retries a failed attempt. That is as close to once as SMTP gets: a connection lost after the
 * server took the message but before its "250" arrived looks like a failure to the client. The
 * request's fixed {@code Message-ID} (kept by {@link FixedIdMessage}) lets readers and archives
 * recognise such a duplicate. A failure while closing the connection <em>after</em> the server
 * accepted the message is logged and ignored, so that it does not cause a needless second send.
 *
 * <p>All recipients go in one transaction with partial sending off: if the server refuses any
 * address, the transaction is reset and nobody gets the message, so that a corrected retry does not
 * reach half of the list twice.
 *
 * <p>The password is resolved only for a real send, handed to the transport and never logged or put
 * in a message or result (a server's reply that quotes it is scrubbed).
 */
public final class SmtpMailActivities implements MailActivities {
  private static final Logger log = LoggerFactory.getLogger(SmtpMailActivities.class);
  // Bounded so that a server that accepts the connection and then stalls fails the attempt (which
  // is retried) well within the step's start-to-close timeout, instead of hanging until it.
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration IO_TIMEOUT = Duration.ofSeconds(30);
  private static final Set<String> SECURITY = Set.of("none", "starttls", "tls");
  // <left@right>, as RFC 5322 msg-id without comments, folding or quoted parts.
  private static final Pattern MESSAGE_ID =
      Pattern.compile("<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+>");
  private static final int PREVIEW_LINES = 8;

  private final SecretResolver secrets;
  private final Clock clock;

  public SmtpMailActivities(SecretResolver secrets) {
    this(secrets, Clock.systemUTC());
  }

  /**
   * @param clock the source of the message's {@code Date} header
   */
  public SmtpMailActivities(SecretResolver secrets, Clock clock) {
    this.secrets = secrets;
    this.clock = clock;
  }

  @Override
  public ActionResult send(MailRequest r) {
    // The send blocks on the network for up to its own timeouts; the heartbeats meanwhile let the
    // step's heartbeat timeout tell a lost worker from a slow server.
    return ActivityIo.whileHeartbeating("sending mail: " + r.step(), () -> sendNow(r));
  }

  private ActionResult sendNow(MailRequest r) {
    Checked c = validate(r);
    String action = render(r);
    MailServerRef s = r.server();
    boolean auth = s.usernameRef() != null;
    if (r.dryRun()) {
      // What the real send needs must be on this worker: the login resolves, the CA file loads.
      if (auth) {
        secret(s.usernameRef(), "the SMTP user of " + s.describe());
        secret(s.passwordRef(), "the SMTP password of " + s.describe());
      }
      if (s.caFile() != null && !s.security().equals("none")) {
        trusting(s);
      }
      return new ActionResult(action, true, "");
    }

    String user = auth ? secret(s.usernameRef(), "the SMTP user of " + s.describe()) : null;
    String password = auth ? secret(s.passwordRef(), "the SMTP password of " + s.describe()) : null;
    Session session = Session.getInstance(properties(s, auth));
    MimeMessage message = message(session, r, c);

    log.info(
        "step '{}': sending '{}' {} to {} via {}",
        r.step(),
        r.subject(),
        r.messageId(),
        String.join(", ", r.to()),
        s.describe());
    Transport transport = null;
    String reply;
    try {
      transport = session.getTransport("smtp");
      if (auth) {
        transport.connect(s.host(), s.port(), user, password);
      } else {
        transport.connect(s.host(), s.port(), null, null);
      }
      transport.sendMessage(message, c.to());
      reply =
          transport instanceof SMTPTransport t && t.getLastServerResponse() != null
              ? t.getLastServerResponse().strip()
              : "accepted";
    } catch (MessagingException e) {
      throw classify(r, e, password);
    } finally {
      close(transport, r);
    }
    log.info("step '{}': {} accepted {}: {}", r.step(), s.describe(), r.messageId(), reply);
    return new ActionResult(
        action,
        false,
        s.describe()
            + " accepted "
            + r.messageId()
            + " for "
            + c.to().length
            + " recipient(s): "
            + scrub(reply, password));
  }

  private record Checked(InternetAddress from, InternetAddress[] to) {}

  private static Checked validate(MailRequest r) {
    MailServerRef s = r.server();
    if (s == null) {
      throw invalid("no mail server given for step " + r.step() + ": configure the SMTP server");
    }
    String name = s.name() == null ? s.host() : s.name();
    if (blank(s.host()) || !s.host().matches("[A-Za-z0-9.:\\[\\]_-]+")) {
      throw invalid("mail server " + name + " has no valid host: configure its host name");
    }
    if (s.port() < 1 || s.port() > 65535) {
      throw invalid("mail server " + name + " has port " + s.port() + ": configure 1-65535");
    }
    if (s.security() == null || !SECURITY.contains(s.security())) {
      throw invalid(
          "mail server "
              + name
              + " has security '"
              + s.security()
              + "': configure none, starttls or tls");
    }
    if ((s.usernameRef() == null) != (s.passwordRef() == null)) {
      throw invalid(
          "mail server "
              + name
              + " has only one of usernameRef and passwordRef: configure both (or neither, for a"
              + " server that takes mail without login)");
    }
    if (s.usernameRef() != null
        && (!SecretResolver.wellFormed(s.usernameRef())
            || !SecretResolver.wellFormed(s.passwordRef()))) {
      // The values are not repeated: a malformed reference may be the secret itself.
      throw invalid(
          "the user or password reference of mail server "
              + name
              + " is not of the form file:/path or env:NAME: configure references, never the"
              + " secrets themselves");
    }
    if (s.caFile() != null && !s.caFile().startsWith("/")) {
      throw invalid(
          "caFile '" + s.caFile() + "' of mail server " + name + " must be an absolute path");
    }
    InternetAddress from = address(r.from(), "sender (from)");
    if (r.to() == null || r.to().isEmpty()) {
      throw invalid("no recipients for step " + r.step() + ": configure at least one address");
    }
    List<InternetAddress> to = new ArrayList<>();
    for (String a : r.to()) {
      to.add(address(a, "recipient"));
    }
    if (blank(r.subject()) || r.subject().indexOf('\r') >= 0 || r.subject().indexOf('\n') >= 0) {
      throw invalid("the subject of step " + r.step() + " must be one non-empty line");
    }
    if (r.body() == null) {
      throw invalid("no body for step " + r.step());
    }
    if (r.messageId() == null || !MESSAGE_ID.matcher(r.messageId()).matches()) {
      throw invalid(
          "message id '"
              + r.messageId()
              + "' of step "
              + r.step()
              + " must look like <release-id.step@crewchief> (derived from the release id, so that"
              + " every attempt sends the same id)");
    }
    return new Checked(from, to.toArray(InternetAddress[]::new));
  }

  private static InternetAddress address(String text, String role) {
    if (blank(text)) {
      throw invalid("empty " + role + " address: configure a full address such as ops@example.org");
    }
    try {
      InternetAddress a = new InternetAddress(text, true);
      a.validate();
      if (a.isGroup() || !a.getAddress().contains("@")) {
        throw new AddressException("not a single address with a domain", text);
      }
      return a;
    } catch (AddressException e) {
      throw invalid(
          role
              + " address '"
              + text
              + "' is not a valid e-mail address ("
              + e.getMessage()
              + "): configure a full address such as ops@example.org");
    }
  }

  /** What would be sent: the server, the envelope and headers, and the start of the body. */
  private static String render(MailRequest r) {
    MailServerRef s = r.server();
    StringBuilder b = new StringBuilder();
    b.append("SMTP ").append(s.describe());
    if (s.usernameRef() != null) {
      b.append(" login <").append(s.usernameRef()).append("> password <");
      b.append(s.passwordRef()).append('>');
    }
    b.append("\nFrom: ").append(r.from());
    b.append("\nTo: ").append(String.join(", ", r.to()));
    b.append("\nSubject: ").append(r.subject());
    b.append("\nMessage-ID: ").append(r.messageId());
    b.append("\n\n");
    List<String> lines = r.body().lines().toList();
    lines.stream().limit(PREVIEW_LINES).forEach(l -> b.append(l).append('\n'));
    if (lines.size() > PREVIEW_LINES) {
      b.append("[").append(lines.size() - PREVIEW_LINES).append(" more lines]\n");
    }
    return b.toString();
  }

  private static Properties properties(MailServerRef s, boolean auth) {
    Properties p = new Properties();
    p.put("mail.smtp.host", s.host());
    p.put("mail.smtp.port", String.valueOf(s.port()));
    p.put("mail.smtp.connectiontimeout", String.valueOf(CONNECT_TIMEOUT.toMillis()));
    p.put("mail.smtp.timeout", String.valueOf(IO_TIMEOUT.toMillis()));
    p.put("mail.smtp.writetimeout", String.valueOf(IO_TIMEOUT.toMillis()));
    p.put("mail.smtp.auth", String.valueOf(auth));
    // All or nobody: see the class comment.
    p.put("mail.smtp.sendpartial", "false");
    if (s.caFile() != null && !s.security().equals("none")) {
      // Used for both the STARTTLS upgrade and TLS from the first byte.
      p.put("mail.smtp.ssl.socketFactory", trusting(s));
    }
    switch (s.security()) {
      case "starttls" -> {
        // Required, not just enabled: a server (or a man in the middle) that does not offer
        // STARTTLS must not get the password in clear.
        p.put("mail.smtp.starttls.enable", "true");
        p.put("mail.smtp.starttls.required", "true");
        p.put("mail.smtp.ssl.checkserveridentity", "true");
      }
      case "tls" -> {
        p.put("mail.smtp.ssl.enable", "true");
        p.put("mail.smtp.ssl.checkserveridentity", "true");
      }
      default -> {}
    }
    return p;
  }

  /**
   * TLS sockets that trust exactly the certificates of the server's {@code caFile} (the name check
   * stays on: {@code checkserveridentity}).
   */
  private static javax.net.ssl.SSLSocketFactory trusting(MailServerRef s) {
    java.nio.file.Path file = java.nio.file.Path.of(s.caFile());
    try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
      java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int n = 0;
      for (java.security.cert.Certificate cert :
          java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("ca-" + n++, cert);
      }
      if (n == 0) {
        throw invalid(
            "caFile " + file + " of " + s.describe() + " holds no PEM certificate: check the file");
      }
      javax.net.ssl.TrustManagerFactory tmf =
          javax.net.ssl.TrustManagerFactory.getInstance(
              javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx.getSocketFactory();
    } catch (IOException e) {
      throw invalid(
          "cannot read caFile "
              + file
              + " of "
              + s.describe()
              + " on this worker: "
              + e.getMessage());
    } catch (java.security.GeneralSecurityException e) {
      throw invalid(
          "caFile "
              + file
              + " of "
              + s.describe()
              + " is not a PEM certificate: "
              + e.getMessage());
    }
  }

  private MimeMessage message(Session session, MailRequest r, Checked c) {
    try {
      MimeMessage m = new FixedIdMessage(session, r.messageId());
      m.setFrom(c.from());
      m.setRecipients(Message.RecipientType.TO, c.to());
      m.setSubject(r.subject(), "UTF-8");
      m.setText(r.body(), "UTF-8");
      m.setSentDate(Date.from(clock.instant()));
      m.saveChanges();
      return m;
    } catch (MessagingException e) {
      throw invalid("cannot build the message of step " + r.step() + ": " + e.getMessage());
    }
  }

  /**
   * A message whose {@code Message-ID} is the request's, not one Jakarta Mail makes up on {@code
   * saveChanges()}: the fixed id is what makes a repeated send recognisable.
   */
  private static final class FixedIdMessage extends MimeMessage {
    private final String id;

    FixedIdMessage(Session session, String id) {
      super(session);
      this.id = id;
    }

    @Override
    protected void updateMessageID() throws MessagingException {
      setHeader("Message-ID", id);
    }
  }

  private String secret(String reference, String usedFor) {
    String value = secrets.resolve(reference, usedFor);
    // Secret files usually end with a newline that is not part of the value.
    String v = value.replaceAll("[\r\n]+$", "");
    if (v.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "secret " + reference + " for " + usedFor + " is empty", "SecretUnresolved");
    }
    return v;
  }

  private static ApplicationFailure classify(MailRequest r, MessagingException e, String password) {
    MailServerRef s = r.server();
    String why = scrub(describe(e), password);
    if (e instanceof AuthenticationFailedException) {
      return ApplicationFailure.newNonRetryableFailure(
          s.describe()
              + " refused the login: check the user in "
              + s.usernameRef()
              + " and the password in "
              + s.passwordRef()
              + " ("
              + why
              + ")",
          "MailAuthFailed");
    }
    if (e instanceof SendFailedException f) {
      // A refused recipient (or sender) comes as SMTPAddressFailedException in the chain of
      // nested exceptions, each with the server's code for that address.
      List<String> refused = new ArrayList<>();
      boolean temporary = false;
      for (Exception n = f; n != null; ) {
        if (n instanceof SMTPAddressFailedException a) {
          refused.add(a.getAddress() + " (" + a.getReturnCode() + " " + oneLine(a) + ")");
          temporary |= a.getReturnCode() >= 400 && a.getReturnCode() < 500;
        }
        n = n instanceof MessagingException m ? m.getNextException() : null;
      }
      int code = f instanceof SMTPSendFailedException sf ? sf.getReturnCode() : -1;
      if (code == 530 && why.toLowerCase(Locale.ROOT).contains("starttls")) {
        return ApplicationFailure.newNonRetryableFailure(
            s.describe()
                + " requires STARTTLS before it takes mail: configure security starttls ("
                + why
                + ")",
            "MailTlsFailed");
      }
      if (code == 530 || code == 535 || code == 534) {
        return ApplicationFailure.newNonRetryableFailure(
            s.describe()
                + " requires a login for this sender or these recipients: configure usernameRef"
                + " and passwordRef ("
                + why
                + ")",
            "MailAuthFailed");
      }
      if (refused.isEmpty()) {
        refused.addAll(
            Arrays.stream(
                    f.getInvalidAddresses() == null ? new Address[0] : f.getInvalidAddresses())
                .map(Address::toString)
                .toList());
      }
      if (temporary || (code >= 400 && code < 500)) {
        return ApplicationFailure.newFailure(
            s.describe() + " deferred the message, nobody got it, try again later (" + why + ")",
            "MailUnreachable");
      }
      String who =
          refused.isEmpty() ? "the message" : String.join(", ", scrubAll(refused, password));
      return ApplicationFailure.newNonRetryableFailure(
          s.describe()
              + " refused "
              + who
              + "; nobody got the message: correct or remove the address ("
              + why
              + ")",
          "MailRejected");
    }
    Throwable cause = rootCause(e);
    // The handshake's SSLException sits above its own cause (a certificate path that does not
    // build, say), so the whole chain is looked at, not its end.
    if (inChain(e, SSLException.class)) {
      return ApplicationFailure.newNonRetryableFailure(
          "TLS with "
              + s.describe()
              + " failed: check the security setting and that the server's certificate is"
              + " trusted by the worker's JVM and names "
              + s.host()
              + " ("
              + why
              + ")",
          "MailTlsFailed");
    }
    String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
    if (m.contains("starttls is required")) {
      return ApplicationFailure.newNonRetryableFailure(
          s.describe()
              + " does not offer STARTTLS: configure security none only for a trusted local relay,"
              + " or the server's TLS port with security tls ("
              + why
              + ")",
          "MailTlsFailed");
    }
    if (cause instanceof ConnectException
        || cause instanceof SocketTimeoutException
        || cause instanceof UnknownHostException
        || cause instanceof NoRouteToHostException
        || cause instanceof SocketException
        || cause instanceof IOException
        || m.contains("couldn't connect")
        || m.contains("could not connect")) {
      return ApplicationFailure.newFailure(
          "cannot reach " + s.describe() + ": " + why, "MailUnreachable");
    }
    // 4xx replies elsewhere in the dialogue (421 service not available, 451 local error) are the
    // server's "try later".
    if (e instanceof SMTPSendFailedException sf
        && sf.getReturnCode() >= 400
        && sf.getReturnCode() < 500) {
      return ApplicationFailure.newFailure(
          s.describe() + " is temporarily unavailable: " + why, "MailUnreachable");
    }
    return ApplicationFailure.newFailure(
        "sending to " + s.describe() + " failed: " + why, "MailSendFailed");
  }

  private static void close(Transport t, MailRequest r) {
    if (t == null) {
      return;
    }
    try {
      t.close();
    } catch (MessagingException e) {
      // After a successful DATA the message is the server's; failing the attempt here would only
      // send it again.
      log.warn("step '{}': closing the SMTP connection failed: {}", r.step(), e.getMessage());
    }
  }

  /**
   * The failure and what caused it, outermost first: Jakarta Mail chains its causes through {@code
   * getNextException}, everything else through {@code getCause}.
   */
  private static List<Throwable> chain(Throwable e) {
    List<Throwable> out = new ArrayList<>();
    for (Throwable c = e; c != null && out.size() < 10 && !out.contains(c); ) {
      out.add(c);
      c =
          c instanceof MessagingException m && m.getNextException() != null
              ? m.getNextException()
              : c.getCause();
    }
    return out;
  }

  private static boolean inChain(Throwable e, Class<? extends Throwable> type) {
    return chain(e).stream().anyMatch(type::isInstance);
  }

  private static Throwable rootCause(Throwable e) {
    List<Throwable> c = chain(e);
    return c.get(c.size() - 1);
  }

  private static String describe(Throwable e) {
    return chain(e).stream()
        .limit(5)
        .map(c -> c.getClass().getSimpleName() + ": " + oneLine(c))
        .collect(Collectors.joining("; "));
  }

  private static String oneLine(Throwable e) {
    return String.valueOf(e.getMessage()).replaceAll("\\s+", " ").strip();
  }

  private static List<String> scrubAll(List<String> texts, String secret) {
    return texts.stream().map(t -> scrub(t, secret)).collect(Collectors.toList());
  }

  private static String scrub(String text, String secret) {
    return secret == null || secret.isEmpty() ? text : text.replace(secret, "***");
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }
}

package dev.crewchief.activities;

/**
 * An SMTP server as activities receive it. {@code security} is {@code none} (plain SMTP), {@code
 * starttls} (plain, upgraded with STARTTLS, which is then required) or {@code tls} (TLS from the
 * first byte, usually port 465). {@code usernameRef} and {@code passwordRef} are secret references
 * ({@code file:/path} or {@code env:VAR}) resolved inside the activity, so that neither enters
 * workflow history; both null means the server takes mail without authentication. A trailing
 * newline of a secret file is not part of the value. {@code caFile}, a PEM file on the worker,
 * holds the certificates to trust for the server's TLS (a relay with a private CA); null means the
 * JVM's own trust store. The server's name is checked against its certificate either way.
 */
public record MailServerRef(
    String name,
    String host,
    int port,
    String security,
    String usernameRef,
    String passwordRef,
    String caFile) {

  /** A server whose certificate the worker's JVM trusts (a public CA), or one without TLS. */
  public MailServerRef(
      String name, String host, int port, String security, String usernameRef, String passwordRef) {
    this(name, host, port, security, usernameRef, passwordRef, null);
  }

  public String describe() {
    return "smtp://" + host + ":" + port + " (" + security + ")";
  }
}

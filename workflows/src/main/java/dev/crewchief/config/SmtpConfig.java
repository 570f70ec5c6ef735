package dev.crewchief.config;

/**
 * An SMTP server; {@code username} and {@code password} are secret references; {@code caFile} a PEM
 * file on the worker with the certificates to trust (a private CA), else the JVM's trust; {@code
 * security} none, starttls (default) or tls.
 */
public record SmtpConfig(
    String host, Integer port, String security, String username, String password, String caFile) {}

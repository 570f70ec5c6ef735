package dev.crewchief.activities;

/**
 * An SSH host as activities receive it. {@code privateKeyRef} is a secret reference ({@code
 * file:/path} or {@code env:VAR}) resolved inside the activity, so key material never enters
 * workflow history. {@code knownHosts} is an OpenSSH known_hosts file: the host key is always
 * verified against it.
 */
public record HostRef(
    String name, String address, int port, String user, String privateKeyRef, String knownHosts) {

  public String describe() {
    return user + "@" + address + ":" + port;
  }
}

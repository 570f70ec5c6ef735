package dev.crewchief.config;

/**
 * A person of an environment: where notifications reach them, and the SSH public key (an OpenSSH
 * line, "ssh-ed25519 AAAA... alice@laptop") their signed gate decisions are checked against. Not
 * secrets: a public key is public.
 */
public record PersonConfig(String email, String publicKey) {}

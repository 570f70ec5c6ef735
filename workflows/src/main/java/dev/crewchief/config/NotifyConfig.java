package dev.crewchief.config;

import java.util.List;

/**
 * Where an environment's notifications go besides the worker's log: e-mail (the team's list in
 * {@code to}, plus the people a gate waits for, by their {@code people.NAME.email}) and a chat
 * incoming webhook whose URL is a secret reference (its path is the credential).
 */
public record NotifyConfig(Email email, Chat chat) {

  public record Email(SmtpConfig smtp, String from, List<String> to) {}

  public record Chat(String name, String webhook) {}
}

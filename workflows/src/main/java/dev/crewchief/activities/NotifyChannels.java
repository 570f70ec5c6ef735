package dev.crewchief.activities;

import java.util.List;

/**
 * Where an environment's notifications go, besides the worker's log (always written, logger {@code
 * crewchief.notify}): e-mail through an SMTP server and a chat incoming webhook (Slack's, or any
 * that takes Slack's {@code {"text": ...}}). Either may be null. No secret is held here: the
 * server's login and the webhook URL (its path is the credential) are secret references.
 */
public record NotifyChannels(Mail email, Chat chat) {

  /**
   * E-mail: {@code to} always gets every notification (a team list); each notification's own
   * addresses (the people a gate waits for) are added to it.
   */
  public record Mail(MailServerRef server, String from, List<String> to) {}

  /** A chat incoming webhook; {@code webhookRef} is a secret reference to its URL. */
  public record Chat(String name, String webhookRef) {}
}

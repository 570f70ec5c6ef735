package dev.crewchief.adapters.ssh;

import io.temporal.failure.ApplicationFailure;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Every {@code from} in a text becomes {@code to}, idempotently. When {@code to} contains {@code
 * from} (a port 808 becoming 8080), a plain replace would find {@code from} again in its own result
 * and a second run would edit again; so then the text is scanned left to right and each {@code to}
 * already there is passed over as a whole before {@code from} is looked for.
 *
 * @param from how many {@code from} the text has that are not part of a {@code to}
 * @param to how many {@code to} it has
 * @param result the text with those {@code from} replaced (the text itself when there are none)
 */
public record TextReplacement(int from, int to, String result) {

  /** The replacement of every {@code from} by {@code to} in {@code text}. */
  public static TextReplacement of(String text, String from, String to) {
    if (from.isEmpty()) {
      throw new IllegalArgumentException("nothing to replace");
    }
    boolean guard = !to.isEmpty() && to.contains(from);
    StringBuilder out = new StringBuilder(text.length());
    int froms = 0;
    int tos = 0;
    int i = 0;
    while (i < text.length()) {
      if (guard && text.startsWith(to, i)) {
        out.append(to);
        tos++;
        i += to.length();
      } else if (text.startsWith(from, i)) {
        out.append(to);
        froms++;
        i += from.length();
      } else {
        out.append(text.charAt(i));
        i++;
      }
    }
    if (!guard && !to.isEmpty()) {
      for (int at = text.indexOf(to); at >= 0; at = text.indexOf(to, at + to.length())) {
        tos++;
      }
    }
    return new TextReplacement(froms, tos, froms == 0 ? text : out.toString());
  }

  /** There was something to replace. */
  public boolean changes() {
    return from > 0;
  }

  /**
   * A file's bytes as text, for an edit: only UTF-8, since a file decoded with replacement
   * characters would be written back altered where nothing was to change ({@code InvalidInput}).
   */
  public static String utf8(byte[] bytes, String path) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          path + " is not UTF-8 text: edit it by another means", "InvalidInput");
    }
  }
}

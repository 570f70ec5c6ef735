package dev.crewchief.adapters.git;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Lists and commits as the git activities show them. */
class GitMessagesTest {
  static List<String> files(int n) {
    return IntStream.rangeClosed(1, n).mapToObj(i -> "f" + i).toList();
  }

  @Test
  void aLongListIsCutAndSaysHowManyMore() {
    assertEquals("", GitMessages.listed(List.of(), ", "));
    assertEquals(String.join(", ", files(20)), GitMessages.listed(files(20), ", "));
    assertEquals(
        String.join("; ", files(20)) + "; and 5 more", GitMessages.listed(files(25), "; "));
  }

  @Test
  void commitsAreAbbreviatedToTwelveCharacters() {
    assertEquals("0123456789ab", GitMessages.abbrev("0123456789abcdef0123456789abcdef01234567"));
    assertEquals("abc", GitMessages.abbrev("abc"));
    assertEquals("(none)", GitMessages.abbrev(null));
  }
}

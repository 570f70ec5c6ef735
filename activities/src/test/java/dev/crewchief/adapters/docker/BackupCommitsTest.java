package dev.crewchief.adapters.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.failure.ApplicationFailure;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The name of a backup image, checked before anything is committed. */
class BackupCommitsTest {
  static ApplicationFailure refused(String repository, String tag) {
    ApplicationFailure f =
        assertThrows(ApplicationFailure.class, () -> BackupCommits.backupImage(repository, tag));
    assertEquals("InvalidInput", f.getType(), f.getOriginalMessage());
    assertTrue(f.isNonRetryable());
    return f;
  }

  @Test
  void aRepositoryAndATagMakeTheBackupImage() {
    assertEquals(
        new ImageRef("localhost", "atmosphere-backup", "before-36-1", null),
        BackupCommits.backupImage("localhost/atmosphere-backup", "before-36-1"));
    ImageRef withPort = BackupCommits.backupImage("localhost:5000/team/backup", "t");
    assertEquals("localhost:5000/team/backup", withPort.name());
    assertEquals("localhost:5000/team/backup:t", withPort.toString());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        " localhost/backup",
        "localhost/backup ",
        "localhost/backup:v1",
        "localhost:5000",
        "localhost/Backup",
        "localhost//backup"
      })
  void aRepositoryWithATagOrMalformedIsRefused(String repository) {
    ApplicationFailure f = refused(repository, "before-36-1");
    assertTrue(
        f.getOriginalMessage().startsWith("backup repository '" + repository + "'"),
        f.getOriginalMessage());
  }

  @Test
  void aBadTagIsRefused() {
    assertTrue(refused(null, "t").getOriginalMessage().contains("backup repository 'null'"));
    for (String tag : new String[] {null, "", "-x", "a:b", "x".repeat(129)}) {
      ApplicationFailure f = refused("localhost/backup", tag);
      assertTrue(f.getOriginalMessage().startsWith("backup tag"), f.getOriginalMessage());
    }
  }
}

package dev.crewchief.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rules that keep the workflows module deterministic and free of I/O, checked on its compiled
 * classes: workflow code is replayed, so it may take time, randomness and the outside world only
 * through Temporal; reading files, the network and the Temporal client belong to the worker and the
 * CLI. And the platform ({@code release}) knows no runbook: runbooks know the platform.
 */
class WorkflowCodeRulesTest {
  static JavaClasses classes;

  @BeforeAll
  static void importMain() {
    classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.crewchief");
  }

  @Test
  void noFilesNetworkOrStreams() {
    ArchRule rule =
        noClasses()
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("java.io..", "java.nio..", "java.net..", "java.sql..")
            .because("workflow code is replayed: I/O belongs in activities (the adapters)");
    rule.check(classes);
  }

  @Test
  void noThreadsClocksOrRandomness() {
    ArchRule threads =
        noClasses()
            .should()
            .dependOnClassesThat()
            .haveFullyQualifiedName("java.lang.Thread")
            .orShould()
            .dependOnClassesThat()
            .resideInAPackage("java.util.concurrent..")
            .orShould()
            .dependOnClassesThat()
            .haveFullyQualifiedName("java.util.Random")
            .orShould()
            .dependOnClassesThat()
            .haveFullyQualifiedName("java.security.SecureRandom")
            .orShould()
            .dependOnClassesThat()
            .haveFullyQualifiedName("java.time.Clock")
            .because("workflow code must use Workflow.* for concurrency, time and randomness");
    threads.check(classes);
    ArchRule clocks =
        noClasses()
            .should()
            .callMethod(System.class, "currentTimeMillis")
            .orShould()
            .callMethod(System.class, "nanoTime")
            .orShould()
            .callMethod(System.class, "getenv", String.class)
            .orShould()
            .callMethod(System.class, "getenv")
            .orShould()
            .callMethod(java.time.Instant.class, "now")
            .orShould()
            .callMethod(java.time.LocalDate.class, "now")
            .orShould()
            .callMethod(java.time.LocalDateTime.class, "now")
            .orShould()
            .callMethod(java.time.ZonedDateTime.class, "now")
            .orShould()
            .callMethod(java.util.UUID.class, "randomUUID")
            .orShould()
            .callMethod(Math.class, "random")
            .because("time and randomness in workflow code come from Workflow.*");
    clocks.check(classes);
  }

  @Test
  void noTemporalClientOrServiceConnection() {
    ArchRule rule =
        noClasses()
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("io.temporal.serviceclient..", "io.temporal.envconfig..")
            .orShould()
            .dependOnClassesThat()
            .haveFullyQualifiedName("io.temporal.client.WorkflowClient")
            .because("connecting to Temporal belongs to the worker and the CLI");
    rule.check(classes);
  }

  @Test
  void thePlatformKnowsNoRunbook() {
    ArchRule rule =
        noClasses()
            .that()
            .resideInAnyPackage(
                "dev.crewchief.release..",
                "dev.crewchief.runbook..",
                "dev.crewchief.config..",
                "dev.crewchief.activities..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("dev.crewchief.randopony..", "dev.crewchief.atmosphere..")
            .because("a runbook is its own package and one registration; the platform names none");
    rule.check(classes);
  }
}

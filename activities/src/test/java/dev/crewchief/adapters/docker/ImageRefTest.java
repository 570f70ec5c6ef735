package dev.crewchief.adapters.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.failure.ApplicationFailure;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link ImageRef} on its own: the grammar engines accept, and what they read into a name. */
class ImageRefTest {
  static final String DIGEST =
      "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

  static ApplicationFailure refused(String image) {
    ApplicationFailure f = assertThrows(ApplicationFailure.class, () -> ImageRef.parse(image));
    assertEquals("InvalidInput", f.getType(), f.getOriginalMessage());
    assertTrue(f.isNonRetryable());
    return f;
  }

  @Test
  void aTaggedReferenceOnTheDefaultRegistry() {
    ImageRef r = ImageRef.parse("cyverse/atmosphere:v36-1");
    assertEquals(new ImageRef(null, "cyverse/atmosphere", "v36-1", null), r);
    assertEquals("cyverse/atmosphere", r.name());
    assertEquals("cyverse/atmosphere:v36-1", r.toString());
  }

  @Test
  void aRegistryIsRecognisedByADotAColonOrLocalhost() {
    assertEquals(
        new ImageRef("localhost:5000", "x", "y", null), ImageRef.parse("localhost:5000/x:y"));
    assertEquals(
        new ImageRef("registry.example.org:443", "team/app", "2.0", null),
        ImageRef.parse("registry.example.org:443/team/app:2.0"));
    assertEquals(new ImageRef("localhost", "app", "v1", null), ImageRef.parse("localhost/app:v1"));
    assertEquals(new ImageRef("ghcr.io", "a/b/c", "1", null), ImageRef.parse("ghcr.io/a/b/c:1"));
    assertEquals(new ImageRef("[::1]:5000", "x", "y", null), ImageRef.parse("[::1]:5000/x:y"));
    // Without a dot, a colon or "localhost" the first component is a namespace on docker.io.
    assertEquals(new ImageRef(null, "cyverse/app", "1", null), ImageRef.parse("cyverse/app:1"));
    // A port is no tag: the colon before the last slash belongs to the registry.
    ImageRef untagged = ImageRef.parse("localhost:5000/x");
    assertEquals(new ImageRef("localhost:5000", "x", null, null), untagged);
  }

  @Test
  void digestsAloneAndWithATag() {
    ImageRef d = ImageRef.parse("cyverse/atmosphere@" + DIGEST);
    assertEquals(new ImageRef(null, "cyverse/atmosphere", null, DIGEST), d);
    ImageRef both = ImageRef.parse("localhost:5000/x:v1@" + DIGEST);
    assertEquals(new ImageRef("localhost:5000", "x", "v1", DIGEST), both);
    assertEquals("localhost:5000/x", both.name());
    assertEquals(d, ImageRef.parseTagged("cyverse/atmosphere@" + DIGEST), "a digest is a version");
    refused("x@sha256:abc");
    refused("x@" + DIGEST + "@" + DIGEST);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "nginx:1.17",
        "cyverse/atmosphere:v36-1",
        "localhost:5000/x:y",
        "localhost:5000/x",
        "registry.example.org/a/b_c/d__e/f-g--h.i:Tag_1.2-rc",
        "x@" + DIGEST,
        "a.b:1/c:d@" + DIGEST,
        "Registry.Example.ORG/app:1"
      })
  void toStringGivesBackWhatWasParsed(String image) {
    assertEquals(image, ImageRef.parse(image).toString());
    assertEquals(image, ImageRef.parse("  " + image + "\n").toString(), "surrounding blanks go");
  }

  @Test
  void upperCaseInTheRepositoryIsRefusedButNotInTheRegistryOrTag() {
    ApplicationFailure f = refused("Cyverse/Atmosphere:v1");
    assertTrue(f.getOriginalMessage().contains("must be lowercase"), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("'Cyverse/Atmosphere:v1'"), f.getOriginalMessage());
    refused("localhost:5000/App:v1");
    assertEquals("V1-RC", ImageRef.parse("localhost/app:V1-RC").tag());
    assertEquals("Registry.Example.ORG", ImageRef.parse("Registry.Example.ORG/app:1").registry());
  }

  @Test
  void aMissingTagIsRefusedWhereATagIsRequired() {
    assertNull(ImageRef.parse("localhost/crewchief-app").tag());
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class, () -> ImageRef.parseTagged("localhost/crewchief-app"));
    assertEquals("InvalidInput", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("no tag"), f.getOriginalMessage());
    assertTrue(
        f.getOriginalMessage().contains("e.g. localhost/crewchief-app:v36-1"),
        f.getOriginalMessage());
    // The port of a registry is not a tag.
    assertThrows(ApplicationFailure.class, () -> ImageRef.parseTagged("localhost:5000/x"));
    assertEquals("y", ImageRef.parseTagged("localhost:5000/x:y").tag());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "x:",
        ":v1",
        "/x:v1",
        "x/:v1",
        "a//b:v1",
        "-a:v1",
        "a-:v1",
        "a..b:v1",
        "a___b:v1",
        "a:b:c",
        "a:-v1",
        "a:.v1",
        "a:v 1",
        "a:v/1",
        "my_registry.com/a:v1",
        "registry.example.org:port/a:v1",
        "a@",
        "a@sha256:NOT-HEX"
      })
  void malformedReferencesAreInvalidInput(String image) {
    refused(image);
  }

  @Test
  void blanksAndOverlongPartsAreRefusedWithAReason() {
    assertTrue(refused(null).getOriginalMessage().contains("no image given"));
    assertTrue(refused("  ").getOriginalMessage().contains("no image given"));
    assertTrue(refused("cyverse/atmosphere :v1").getOriginalMessage().contains("space"));
    String tag129 = "v" + "1".repeat(128);
    assertTrue(refused("a:" + tag129).getOriginalMessage().contains("is not a tag"));
    assertEquals(tag129.substring(1), ImageRef.parse("a:" + tag129.substring(1)).tag());
    String long256 = "a/".repeat(127) + "bc";
    assertEquals(256, long256.length());
    assertTrue(refused(long256 + ":v1").getOriginalMessage().contains("longer than 255"));
    assertEquals(255, ImageRef.parse("b" + long256.substring(2) + ":v1").name().length());
  }

  @Test
  void theConstructorChecksToo() {
    assertThrows(ApplicationFailure.class, () -> new ImageRef(null, "App", "v1", null));
    assertThrows(ApplicationFailure.class, () -> new ImageRef("bad host", "app", "v1", null));
    assertThrows(ApplicationFailure.class, () -> new ImageRef(null, "", "v1", null));
    assertThrows(ApplicationFailure.class, () -> new ImageRef(null, "app", "", null));
  }

  @Test
  void normalisingAddsTheDefaultRegistryAndTheLibraryNamespace() {
    assertEquals(
        new ImageRef("docker.io", "library/nginx", "1.17", null),
        ImageRef.parse("nginx:1.17").normalized());
    assertEquals(
        new ImageRef("docker.io", "cyverse/atmosphere", "v1", null),
        ImageRef.parse("cyverse/atmosphere:v1").normalized());
    assertEquals(
        "docker.io/library/nginx:1.17",
        ImageRef.parse("index.docker.io/nginx:1.17").normalized().toString());
    // Another registry has no library namespace, and no tag is implied.
    assertEquals(
        new ImageRef("localhost:5000", "x", null, null),
        ImageRef.parse("localhost:5000/x").normalized());
    ImageRef n = ImageRef.parse("docker.io/library/nginx:1.17").normalized();
    assertEquals(n, n.normalized(), "normalising twice changes nothing");
  }

  @Test
  void sameComparesAsTheEngineReads() {
    assertTrue(ImageRef.same("nginx:1.17", "docker.io/library/nginx:1.17"));
    assertTrue(ImageRef.same("library/nginx:1.17", "nginx:1.17"));
    assertTrue(ImageRef.same("docker.io/cyverse/app:v1", "cyverse/app:v1"));
    assertFalse(ImageRef.same("nginx:1.17", "nginx:1.18"));
    assertFalse(ImageRef.same("nginx", "nginx:latest"), "no tag is implied");
    assertFalse(ImageRef.same("localhost/library/x:1", "localhost/x:1"));
    assertFalse(ImageRef.same("localhost:5000/x:1", "localhost:5001/x:1"));
    // An engine may report an image id for a container's image: that is not the same reference.
    assertFalse(ImageRef.same("nginx:1.17", "sha256:" + "a".repeat(64)));
    assertFalse(ImageRef.same("nginx:1.17", null));
    assertTrue(ImageRef.same("sha256:abc", "sha256:abc"), "the same text is the same image");
  }

  @Test
  void tagsAreCheckedOnTheirOwn() {
    assertTrue(ImageRef.isTag("before-36-1"));
    assertTrue(ImageRef.isTag("_x.Y-1"));
    assertFalse(ImageRef.isTag(null));
    assertFalse(ImageRef.isTag(""));
    assertFalse(ImageRef.isTag("-x"));
    assertFalse(ImageRef.isTag("a:b"));
  }
}

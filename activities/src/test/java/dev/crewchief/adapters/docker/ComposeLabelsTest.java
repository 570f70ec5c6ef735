package dev.crewchief.adapters.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.dockerjava.api.command.InspectContainerResponse;
import dev.crewchief.activities.ContainerInfo;
import dev.crewchief.activities.EngineRef;
import dev.crewchief.activities.ServiceRef;
import io.temporal.failure.ApplicationFailure;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Reading compose's labels and an inspected container, on containers as an engine reports them
 * (JSON of the inspect API), without an engine; and whether a container runs an image.
 */
class ComposeLabelsTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final EngineRef ENGINE = new EngineRef("prod", "unix:///run/docker.sock", null, null);
  static final ServiceRef WEB = new ServiceRef(ENGINE, "atmo", "web");

  /** A container as the inspect API reports it; {@code labels} null leaves them out. */
  static InspectContainerResponse container(
      String name, Map<String, String> labels, String image, String imageId) throws Exception {
    ObjectNode n = JSON.createObjectNode();
    n.put("Id", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    if (name != null) {
      n.put("Name", name);
    }
    if (imageId != null) {
      n.put("Image", imageId);
    }
    ObjectNode config = n.putObject("Config");
    config.put("Image", image);
    if (labels != null) {
      config.set("Labels", JSON.valueToTree(labels));
    }
    n.putObject("State").put("Status", "running").put("Running", true);
    return JSON.treeToValue(n, InspectContainerResponse.class);
  }

  static Map<String, String> labels(String project, String service, String number) {
    return Map.of(
        ComposeLabels.PROJECT,
        project,
        ComposeLabels.SERVICE,
        service,
        ComposeLabels.NUMBER,
        number);
  }

  @Test
  void theNumberComesFromItsLabelAndIsZeroWithoutOne() throws Exception {
    assertEquals(
        3, ComposeLabels.number(container("/atmo_web_3", labels("atmo", "web", "3"), "a:1", null)));
    assertEquals(
        0, ComposeLabels.number(container("/x", labels("atmo", "web", "three"), "a:1", null)));
    assertEquals(0, ComposeLabels.number(container("/x", null, "a:1", null)));
  }

  @Test
  void aContainerBelongsToTheServiceItsLabelsName() throws Exception {
    assertTrue(
        ComposeLabels.belongsTo(container("/a", labels("atmo", "web", "1"), "a:1", null), WEB));
    InspectContainerResponse other = container("/b", labels("atmo", "db", "1"), "a:1", null);
    assertFalse(ComposeLabels.belongsTo(other, WEB));
    assertEquals("atmo/db", ComposeLabels.labelledAs(other));
    assertFalse(ComposeLabels.belongsTo(container("/c", null, "a:1", null), WEB));
  }

  @Test
  void aNewContainerIsNamedInTheStyleOfItsNeighbour() throws Exception {
    assertEquals(
        "atmo_web_2",
        ComposeLabels.nextName(
            container("/atmo_web_1", labels("atmo", "web", "1"), "a:1", null), WEB, 2));
    assertEquals(
        "atmo-web-4",
        ComposeLabels.nextName(
            container("/atmo-web-3", labels("atmo", "web", "3"), "a:1", null), WEB, 4));
  }

  @Test
  void aServiceReferenceNeedsItsEngineProjectAndService() {
    for (ServiceRef bad :
        new ServiceRef[] {
          null,
          new ServiceRef(ENGINE, " ", "web"),
          new ServiceRef(ENGINE, "atmo", ""),
          new ServiceRef(new EngineRef("x", "http://x", null, null), "atmo", "web")
        }) {
      ApplicationFailure f =
          assertThrows(ApplicationFailure.class, () -> ComposeLabels.requireService(bad));
      assertEquals("InvalidInput", f.getType());
    }
    assertEquals(WEB, ComposeLabels.requireService(WEB));
  }

  @Test
  void theReportedContainerHasItsNameWithoutTheSlash() throws Exception {
    ContainerInfo info =
        Containers.info(container("/atmo_web_1", labels("atmo", "web", "1"), "a:1", null));
    assertEquals("atmo_web_1", info.name());
    assertEquals(1, info.number());
    assertEquals("a:1", info.image());
    assertEquals("running", info.state());
    assertEquals("none", info.health());
    assertEquals("0123456789ab", Containers.name(container(null, null, "a:1", null)));
    assertEquals("0123456789ab", Containers.shortId("sha256:0123456789abcdef0123"));
    assertEquals("my-container", Containers.shortId("my-container"));
  }

  @Test
  void aContainerIsOnAnImageByIdWhenBothAreKnownElseByReference() throws Exception {
    String v1 = "sha256:" + "1".repeat(64);
    String v2 = "sha256:" + "2".repeat(64);
    // The same tag pushed again names a new image: the container made from the old one is not on
    // it, whatever its configuration says.
    InspectContainerResponse old = container("/a", null, "nginx:1.17", v1);
    assertFalse(EngineImages.onImage(old, "nginx:1.17", v2));
    assertTrue(EngineImages.onImage(old, "nginx:1.17", "1".repeat(64)), "with or without sha256:");
    // Without an id on either side, the references are compared as the engine reads them.
    InspectContainerResponse noId = container("/a", null, "docker.io/library/nginx:1.17", null);
    assertTrue(EngineImages.onImage(noId, "nginx:1.17", v1));
    assertTrue(EngineImages.onImage(old, "library/nginx:1.17", null));
    assertFalse(EngineImages.onImage(noId, "nginx:1.18", null));
  }
}

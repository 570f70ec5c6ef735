package dev.crewchief.release;

import com.fasterxml.jackson.databind.JsonNode;
import dev.crewchief.config.GateConfig;
import io.temporal.common.converter.EncodedValues;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The gates of one release and every decision sent to them. A decision is taken only when it names
 * a gate that is waiting, comes from a person who holds one of the gate's roles, arrived within the
 * gate's bound of the time it was issued, and carries a valid SSH signature of that person where
 * the gate requires one. Anything else is refused with a reason the sender can act on, and the
 * refusal is kept with the gate (status, the Web UI's details, the report).
 *
 * <p>Runs on the workflow thread: only {@code Workflow} time, no I/O (signatures are checked in
 * plain Java, see {@link DecisionSignature}).
 */
final class Gates {
  static final GateConfig DEFAULT =
      new GateConfig(
          List.of(), Duration.ofHours(24), Duration.ofHours(4), GateConfig.OnTimeout.FAIL);

  private static final Set<String> FIELDS =
      Set.of("gate", "decision", "approver", "comment", "issuedAt", "signature", "choice");

  private final Release release;
  private final ReleaseContext ctx;
  private final boolean checked;
  private final Map<String, Gate> gates = new LinkedHashMap<>();

  /**
   * @param checked whether decisions are held to the time they were issued and to signatures:
   *     releases started before those checks existed replay without them
   */
  Gates(Release release, ReleaseContext ctx, boolean checked) {
    this.release = release;
    this.ctx = ctx;
    this.checked = checked;
  }

  void declare(String name, String description, List<String> defaultRoles) {
    declare(name, description, defaultRoles, List.of());
  }

  void declare(String name, String description, List<String> defaultRoles, List<String> choices) {
    GateConfig configured = ctx.gates() == null ? null : ctx.gates().get(name);
    GateConfig p = configured == null ? DEFAULT : configured;
    List<String> roles = ctx.rolesAt(name, defaultRoles);
    gates.put(
        name,
        new Gate(
            name,
            description,
            new GateConfig(
                roles,
                p.timeout() == null ? DEFAULT.timeout() : p.timeout(),
                p.remindEvery() == null ? DEFAULT.remindEvery() : p.remindEvery(),
                p.onTimeout() == null ? DEFAULT.onTimeout() : p.onTimeout(),
                p.requireSignature(),
                p.maxDecisionAge()),
            List.copyOf(choices)));
  }

  /**
   * Sets what a gate with choices shows and proposes, once the release knows (METASPACE's review
   * findings and the strategy they recommend), before it opens.
   */
  void propose(String name, String description, String proposed) {
    Gate g = get(name);
    if (!g.choices.contains(proposed)) {
      throw new IllegalArgumentException(
          "gate " + name + " offers " + g.choices + ", not " + proposed);
    }
    g.description = description;
    g.proposed = proposed;
  }

  Gate get(String name) {
    Gate g = gates.get(name);
    if (g == null) {
      throw new IllegalStateException("gate '" + name + "' was not declared");
    }
    return g;
  }

  List<GateView> views() {
    List<GateView> out = new ArrayList<>();
    for (Gate g : gates.values()) {
      out.add(view(g));
    }
    return out;
  }

  List<Gate> waiting() {
    return gates.values().stream().filter(g -> g.status == GateStatus.WAITING).toList();
  }

  // ---- decisions ----

  /** A decision from the CLI (an update): taken, or refused with the reason, never thrown. */
  DecisionReply decide(GateDecision d, String via) {
    String refusal = refusal(d, via);
    Gate g = d == null || d.gate() == null ? null : gates.get(d.gate());
    if (refusal != null) {
      refuse(g, via, d == null ? null : d.approver(), refusal);
      return new DecisionReply(false, refusal, g == null ? null : view(g));
    }
    g.decision = d;
    g.decidedAt = Release.now();
    g.via = via;
    g.status =
        d.decision() == GateDecision.Decision.APPROVE ? GateStatus.APPROVED : GateStatus.REJECTED;
    release.log().info("gate {} {} by {} via {}", d.gate(), g.status, d.approver(), via);
    release.refreshDetails();
    return new DecisionReply(true, null, view(g));
  }

  /** A signal of another name than gateDecision: the release takes no such signal. */
  void signal(String name, EncodedValues payload) {
    refuse(
        null,
        "signal " + name,
        null,
        "this release takes no signal '"
            + name
            + "': send "
            + ReleaseControl.DECIDE_SIGNAL
            + " with "
            + payloadExample("GATE"));
  }

  /**
   * A gateDecision signal (the Web UI's Send signal), its JSON payload taken raw: whatever its
   * shape, it is either a decision or a refusal with the reason, never dropped.
   */
  void signal(JsonNode json) {
    GateDecision d;
    try {
      d = parse(json);
    } catch (IllegalArgumentException e) {
      String gate =
          json != null && json.path("gate").isTextual() ? json.get("gate").asText() : null;
      String who =
          json != null && json.path("approver").isTextual() ? json.get("approver").asText() : null;
      refuse(gate == null ? null : gates.get(gate), "signal", who, e.getMessage());
      return;
    }
    decide(d, "signal");
  }

  /** The decision a signal's JSON states, or what is wrong with its shape. */
  private GateDecision parse(JsonNode json) {
    String example = payloadExample("GATE");
    if (json == null || json.isNull() || json.isMissingNode()) {
      throw new IllegalArgumentException("the signal has no payload: send " + example);
    }
    if (!json.isObject()) {
      throw new IllegalArgumentException(
          "the payload must be a JSON object, found "
              + kind(json)
              + " "
              + abbreviate(json.toString())
              + ": send "
              + example);
    }
    for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!FIELDS.contains(f)) {
        throw new IllegalArgumentException(
            "unknown field '"
                + f
                + "' in the payload; its fields are "
                + String.join(", ", FIELDS));
      }
    }
    String gate = text(json, "gate", true);
    String decision = text(json, "decision", true);
    GateDecision.Decision dec;
    try {
      dec = GateDecision.Decision.valueOf(decision);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "\"decision\" must be \"APPROVE\" or \"REJECT\", found \"" + abbreviate(decision) + "\"");
    }
    String issued = text(json, "issuedAt", false);
    Instant issuedAt = null;
    if (issued != null) {
      try {
        issuedAt = Instant.parse(issued);
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException(
            "\"issuedAt\" must be an ISO-8601 UTC time such as 2026-12-10T16:00:00Z, found \""
                + abbreviate(issued)
                + "\"");
      }
    }
    return new GateDecision(
        gate,
        dec,
        text(json, "approver", true),
        text(json, "comment", false),
        issuedAt,
        text(json, "signature", false),
        text(json, "choice", false));
  }

  private static String text(JsonNode json, String field, boolean required) {
    JsonNode v = json.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw new IllegalArgumentException("the payload needs \"" + field + "\"");
      }
      return null;
    }
    if (!v.isTextual()) {
      throw new IllegalArgumentException(
          "\"" + field + "\" must be a string, found " + kind(v) + " " + abbreviate(v.toString()));
    }
    return v.asText();
  }

  private static String kind(JsonNode n) {
    if (n.isTextual()) {
      return "a string";
    }
    if (n.isArray()) {
      return "an array";
    }
    if (n.isNumber()) {
      return "a number";
    }
    if (n.isBoolean()) {
      return "a boolean";
    }
    return n.isObject() ? "an object" : "null";
  }

  /** Why a decision cannot be taken, or null when it can. */
  private String refusal(GateDecision d, String via) {
    if (d == null || d.gate() == null || d.gate().isBlank()) {
      return "a decision needs a gate name: " + payloadExample("GATE");
    }
    Gate g = gates.get(d.gate());
    if (g == null) {
      return "unknown gate '"
          + d.gate()
          + "'; this release has gates: "
          + String.join(", ", gates.keySet());
    }
    if (d.decision() == null) {
      return "decision must be APPROVE or REJECT";
    }
    if (d.approver() == null || d.approver().isBlank()) {
      return "a decision needs the approver's name";
    }
    switch (g.status) {
      case NOT_REACHED -> {
        return "release is not waiting at gate '"
            + d.gate()
            + "' yet (current step: "
            + release.currentStep()
            + ")";
      }
      case WAITING -> {}
      default -> {
        return "gate '"
            + d.gate()
            + "' was already decided: "
            + g.status
            + (g.decision == null ? "" : " by " + g.decision.approver())
            + " at "
            + g.decidedAt;
      }
    }
    List<String> people = allowedPeople(g);
    if (!people.contains(d.approver())) {
      return "'"
          + d.approver()
          + "' may not decide gate '"
          + d.gate()
          + "': it needs role "
          + String.join(" or ", g.policy.roles())
          + " ("
          + String.join(", ", people)
          + ")";
    }
    String choiceProblem = choiceProblem(g, d);
    if (choiceProblem != null) {
      return choiceProblem;
    }
    if (!checked) {
      return null;
    }
    Instant now = Release.now();
    Duration bound = g.policy.decisionAgeLimit();
    if (d.issuedAt() == null) {
      if (via.equals("update") || g.policy.signatureRequired()) {
        return "the decision does not say when it was issued (\"issuedAt\"): a gate takes only"
            + " decisions issued within "
            + bound.toSeconds()
            + " s; decide again with an up-to-date crewchief";
      }
    } else {
      Duration age = Duration.between(d.issuedAt(), now);
      if (age.compareTo(bound) > 0) {
        return "stale: issued at "
            + d.issuedAt()
            + ", arrived at "
            + now
            + " ("
            + age.toSeconds()
            + " s later; this gate takes decisions up to "
            + bound.toSeconds()
            + " s old, so that one held up while no worker ran is not applied after you gave"
            + " up): decide again";
      }
      if (age.isNegative() && age.abs().compareTo(bound) > 0) {
        return "issued in the future ("
            + d.issuedAt()
            + ", the worker's time is "
            + now
            + "): the clocks of your machine and the worker differ; fix them, then decide again";
      }
    }
    if (g.policy.signatureRequired() || d.signature() != null) {
      return signatureProblem(g, d);
    }
    return null;
  }

  /** Why the decision's choice cannot be taken at this gate, or null. */
  private static String choiceProblem(Gate g, GateDecision d) {
    String c = d.choice();
    if (c == null) {
      return null;
    }
    if (g.choices.isEmpty()) {
      return "gate '" + g.name + "' offers no choices: decide it without one";
    }
    if (d.decision() == GateDecision.Decision.REJECT) {
      return "a rejection takes no choice: reject without one, or approve with --choice " + c;
    }
    if (!g.choices.contains(c)) {
      return "'"
          + abbreviate(c)
          + "' is not a choice of gate '"
          + g.name
          + "'; it offers: "
          + String.join(", ", g.choices);
    }
    if (!c.equals(g.proposed) && (d.comment() == null || d.comment().isBlank())) {
      return "choosing "
          + c
          + " instead of the proposed "
          + g.proposed
          + " needs the reason: add -m \"why\" (the report keeps it)";
    }
    return null;
  }

  private String signatureProblem(Gate g, GateDecision d) {
    Person p = ctx.person(d.approver());
    String key = p == null ? null : p.publicKey();
    if (d.signature() == null || d.signature().isBlank()) {
      return "gate '"
          + g.name
          + "' takes signed decisions only: sign with `crewchief approve ... --sign-with KEY`"
          + " (or the ssh-agent), or paste the payload `crewchief sign` prints";
    }
    if (key == null || key.isBlank()) {
      return "no public key is configured for "
          + d.approver()
          + " (environments."
          + ctx.environment()
          + ".people."
          + d.approver()
          + ".publicKey): the signature cannot be checked";
    }
    String problem =
        DecisionSignature.check(
            d.signature(),
            DecisionSignature.message(
                ctx.releaseId(),
                d.gate(),
                d.decision().name(),
                d.approver(),
                d.issuedAt(),
                d.choice()),
            key);
    return problem == null ? null : "signature refused for " + d.approver() + ": " + problem;
  }

  /** Keeps a refused decision with its gate (or the release's notes when it names none). */
  private void refuse(Gate g, String via, String from, String reason) {
    String line =
        Release.now()
            + " refused ("
            + via
            + (from == null || from.isBlank() ? "" : " from " + abbreviate(from))
            + "): "
            + reason;
    release.log().warn("release {}: {}", ctx.releaseId(), line);
    if (g != null) {
      g.refusals.add(line);
    } else {
      release.note(line);
    }
    release.recordRefusal(line);
    release.refreshDetails();
  }

  // ---- people and instructions ----

  List<String> allowedPeople(Gate g) {
    return ctx.holders(g.policy.roles());
  }

  /** The documented Web UI payload of a decision at a gate. */
  static String payloadExample(String gate) {
    return "{\"gate\": \""
        + gate
        + "\", \"decision\": \"APPROVE\", \"approver\": \"NAME\", \"comment\": \"...\"}";
  }

  /**
   * How to decide a gate, for the Web UI's details and the notifications: who may, the CLI
   * commands, and the Web UI payload.
   */
  String instructions(Gate g) {
    String id = ctx.releaseId();
    StringBuilder sb = new StringBuilder();
    sb.append("Waiting at gate ")
        .append(g.name)
        .append(" for ")
        .append(String.join(" or ", g.policy.roles()))
        .append(" (")
        .append(String.join(", ", allowedPeople(g)))
        .append(").\n\n")
        .append(g.description)
        .append("\n\nApprove: `crewchief approve ")
        .append(id)
        .append(' ')
        .append(g.name)
        .append(" --as NAME -m \"why\"")
        .append(g.policy.signatureRequired() ? " --sign-with ~/.ssh/id_ed25519" : "")
        .append(
            g.choices.isEmpty()
                ? ""
                : "` (approves the proposed "
                    + g.proposed
                    + "; another: add `--choice "
                    + String.join("|", g.choices)
                    + "` with the reason in -m)")
        .append("`\nReject: `crewchief reject ")
        .append(id)
        .append(' ')
        .append(g.name)
        .append(" --as NAME -m \"why\"`")
        .append("\nWeb UI: More Actions > Send a Signal, name `")
        .append(ReleaseControl.DECIDE_SIGNAL)
        .append("`, payload ");
    if (g.policy.signatureRequired()) {
      sb.append("as printed by `crewchief sign ")
          .append(id)
          .append(' ')
          .append(g.name)
          .append(" --as NAME` (signed decisions only; use it within ")
          .append(g.policy.decisionAgeLimit().toSeconds())
          .append(" s)");
    } else {
      sb.append('`').append(payloadExample(g.name)).append('`');
      if (!g.choices.isEmpty()) {
        sb.append(" with `\"choice\": \"")
            .append(String.join("|", g.choices))
            .append("\"` to choose other than the proposed ")
            .append(g.proposed);
      }
    }
    return sb.toString();
  }

  GateView view(Gate g) {
    return new GateView(
        g.name,
        g.description,
        g.policy.roles(),
        g.status,
        g.decision == null ? null : g.decision.approver(),
        g.decidedAt,
        g.decision == null ? null : g.decision.comment(),
        g.via,
        List.copyOf(g.refusals),
        allowedPeople(g),
        g.policy.signatureRequired(),
        g.choices,
        g.proposed,
        g.decision == null || g.decision.decision() != GateDecision.Decision.APPROVE
            ? null
            : g.decision.choice() == null ? g.proposed : g.decision.choice());
  }

  private static String abbreviate(String s) {
    String t = s.replace('\n', ' ');
    return t.length() > 80 ? t.substring(0, 77) + "..." : t;
  }

  /** One gate's state. */
  static final class Gate {
    final String name;
    String description;
    final GateConfig policy;
    final List<String> choices;
    String proposed;
    final List<String> refusals = new ArrayList<>();
    GateStatus status = GateStatus.NOT_REACHED;
    GateDecision decision;
    Instant openedAt;
    Instant decidedAt;
    String via;

    Gate(String name, String description, GateConfig policy, List<String> choices) {
      this.name = name;
      this.description = description;
      this.policy = policy;
      this.choices = choices;
      this.proposed = choices.isEmpty() ? null : choices.get(0);
    }
  }
}

package dev.crewchief.release;

import io.temporal.common.SearchAttributeKey;
import java.util.List;

/** The search attributes Crew Chief uses. Their names are stable: dashboards depend on them. */
public final class SearchAttributes {
  public static final SearchAttributeKey<String> RUNBOOK =
      SearchAttributeKey.forKeyword("CrewChiefRunbook");
  public static final SearchAttributeKey<String> ENVIRONMENT =
      SearchAttributeKey.forKeyword("CrewChiefEnvironment");
  public static final SearchAttributeKey<String> VERSION =
      SearchAttributeKey.forKeyword("CrewChiefVersion");
  public static final SearchAttributeKey<String> STEP =
      SearchAttributeKey.forKeyword("CrewChiefStep");
  public static final SearchAttributeKey<String> STATUS =
      SearchAttributeKey.forKeyword("CrewChiefStatus");

  public static final List<SearchAttributeKey<String>> ALL =
      List.of(RUNBOOK, ENVIRONMENT, VERSION, STEP, STATUS);

  /**
   * The runbook, environment and version of a release as typed search attributes, those of them the
   * server has registered (the context's list), for a release started from a workflow.
   */
  public static io.temporal.common.SearchAttributes identity(ReleaseContext ctx) {
    return identity(ctx.runbook(), ctx.environment(), ctx.version(), ctx.searchAttributes());
  }

  /** The same, from its parts and the names the server has registered. */
  public static io.temporal.common.SearchAttributes identity(
      String runbook, String environment, String version, List<String> registered) {
    io.temporal.common.SearchAttributes.Builder b =
        io.temporal.common.SearchAttributes.newBuilder();
    List<String> known = registered == null ? List.of() : registered;
    if (known.contains(RUNBOOK.getName())) {
      b.set(RUNBOOK, runbook);
    }
    if (known.contains(ENVIRONMENT.getName())) {
      b.set(ENVIRONMENT, environment);
    }
    if (known.contains(VERSION.getName())) {
      b.set(VERSION, version);
    }
    return b.build();
  }

  private SearchAttributes() {}
}

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

  private SearchAttributes() {}
}

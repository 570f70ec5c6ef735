package dev.crewchief.atmosphere;

import dev.crewchief.activities.DatabaseRef;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.HostRef;
import dev.crewchief.config.NginxConfig;
import java.util.List;
import java.util.Map;

/**
 * The deployment day of one environment (beta or production), resolved from config by the CLI. It
 * holds no secret: databases and hosts carry references.
 *
 * @param services the compose services in the order the runbook handles them (troposphere, then
 *     atmosphere)
 * @param databases dumped before anything else, to {@code dumpDir} on the worker
 * @param proxyLink the enabled-site link switched between {@code maintenanceConfig} and {@code
 *     appConfig}; {@code probeUrl} answers {@code maintenanceText} or {@code appText}
 * @param maintenanceStart per service, the command run in its container to start maintenance;
 *     "{title}" and "{message}" are replaced
 * @param secrets the secrets checkout, brought to {@code secrets.branch()}
 * @param testGate whether the day ends with the driver's "tested in production" gate
 */
public record DayPlan(
    String environment,
    AtmosphereSite site,
    List<String> services,
    List<DatabaseRef> databases,
    String dumpDir,
    HostRef proxyHost,
    NginxConfig nginx,
    String proxyLink,
    String maintenanceConfig,
    String appConfig,
    String probeUrl,
    String maintenanceText,
    String appText,
    Map<String, List<String>> maintenanceStart,
    Map<String, List<String>> maintenanceStop,
    GitRepoRef secrets,
    boolean testGate) {

  /** The maintenance title of a day, as the runbook writes it: "2019-06-16 v36-1 deployment". */
  public static String maintenanceTitle(String date, String version) {
    return date + " v" + version + " deployment";
  }
}

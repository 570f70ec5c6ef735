package dev.crewchief.encode;

import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.MailServerRef;
import dev.crewchief.activities.PostgresReplicationActivities;
import java.util.List;

/**
 * An environment's ENCODE settings resolved for a release: hosts, servers and services as
 * activities take them, and the section with its defaults filled in. References only.
 */
public record EncodeSite(
    HostRef oldServer,
    HostRef newServer,
    List<HostRef> proxies,
    GitRepoRef repo,
    Ec2Activities.Aws aws,
    ElasticsearchActivities.Cluster cluster,
    PostgresReplicationActivities.Server oldPostgres,
    PostgresReplicationActivities.Server newPostgres,
    MailServerRef mail,
    EncodeConfig config) {}

package dev.crewchief.metaspace;

import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.HostRef;

/**
 * An environment's METASPACE settings resolved for a release: the hosts and repositories as
 * activities take them, and the section itself with its defaults filled in. References only: no
 * secret is read here.
 *
 * @param newHost the host the forked VM is reached by when configured (fork.newHost), else null
 */
public record MetaspaceSite(
    HostRef host,
    HostRef newHost,
    GitRepoRef repo,
    GitRepoRef ansibleRepo,
    ElasticsearchActivities.Cluster cluster,
    Ec2Activities.Aws aws,
    MetaspaceConfig config) {}

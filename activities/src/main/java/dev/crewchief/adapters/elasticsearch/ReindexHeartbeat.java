package dev.crewchief.adapters.elasticsearch;

import dev.crewchief.activities.Progress;

/**
 * The heartbeat details of {@code Elasticsearch.reindex}: the id of the ES task being followed
 * ({@code node:number}) and its {@link Progress} (documents done of total). The task id is what a
 * retried attempt reads back to follow the same task instead of starting a second; the progress is
 * what {@code crewchief status} and the Web UI show, as JSON: {@code
 * {"taskId":"Xy1:123","progress":{"done":1000,"total":3000,"unit":"documents",...}}}.
 */
public record ReindexHeartbeat(String taskId, Progress progress) {}

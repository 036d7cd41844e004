package dev.pgbranch.pageserver.console;

import java.util.List;

/**
 * What a reset of a branch would replace, as its running Postgres reports it: the databases
 * and roles the branch has (the parent's take their place) and the client sessions that will be
 * dropped. The console adds the schema changes not promoted from the schema diff.
 *
 * @param connections client backends other than the console's own inspecting one
 */
record ResetImpact(String branch, String parent, List<String> databases, List<String> roles,
                   List<Session> connections) {

    /** One open client session, as {@code pg_stat_activity} shows it. */
    record Session(int pid, String user, String database, String clientAddress, String application, String state,
                   String backendStart) {
    }
}

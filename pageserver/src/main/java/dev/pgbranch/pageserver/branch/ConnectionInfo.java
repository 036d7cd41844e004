package dev.pgbranch.pageserver.branch;

/**
 * How to connect to a branch through the wire proxy: the fields and two libpq URIs, one to the
 * branch's own stable port ({@code postgresql://user:password@host:port/database}) and one to
 * the proxy's routing port naming the branch in the startup options
 * ({@code ...@host:routingPort/database?options=branch%3Ddev%2Falex}). Neither ever names a
 * compute directly. Holds the project's superuser password: never log it.
 *
 * @param branch the branch as the proxy knows it ({@link RoutingName})
 * @param routingPort 0 (and {@code routingUri} null) when no routing port is served
 */
public record ConnectionInfo(String branch, String host, int port, String user, String password,
                             String database, String uri, int routingPort, String routingUri) {

    @Override
    public String toString() {
        return "ConnectionInfo[branch=" + branch + ", " + user + "@" + host + ":" + port + "/" + database
                + ", routing port " + routingPort + "]";
    }
}

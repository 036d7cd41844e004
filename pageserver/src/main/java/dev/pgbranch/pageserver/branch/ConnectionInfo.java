package dev.pgbranch.pageserver.branch;

/**
 * How to connect to a branch: the fields and the libpq URI
 * {@code postgresql://user:password@host:port/database}. Holds the project's superuser
 * password: never log it.
 */
public record ConnectionInfo(String branch, String host, int port, String user, String password,
                             String database, String uri) {

    @Override
    public String toString() {
        return "ConnectionInfo[branch=" + branch + ", " + user + "@" + host + ":" + port + "/" + database + "]";
    }
}

package dev.pgbranch.pageserver.console;

import dev.pgbranch.pageserver.branch.BranchException;
import dev.pgbranch.pageserver.branch.BranchService;
import dev.pgbranch.pageserver.branch.ConnectionInfo;
import dev.pgbranch.pageserver.branch.ErrorCode;
import dev.pgbranch.pageserver.branch.RoutingName;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Opens JDBC connections to a branch for the console, as the branch's Postgres user and through
 * the wire proxy like any client (so a suspended compute wakes, and idle tracking sees the
 * session): the branch's own port, or for read-only time travel the routing port with
 * {@code options=branch=<branch>@<point>}. Names and points reach the server as connection
 * properties, never inside SQL text.
 *
 * <p>Stateless besides the branch service; thread-safe.
 */
final class BranchConnector {

    /** Seconds pgjdbc waits for the TCP connection and the login (the proxy may be waking a compute). */
    private static final int CONNECT_TIMEOUT_SECONDS = 60;

    private final BranchService branches;

    BranchConnector(BranchService branches) {
        this.branches = branches;
    }

    /**
     * A connection to {@code database} on the branch, or at {@code point} (an LSN or ISO time,
     * null for the live branch) read-only through the routing port.
     */
    Connection open(String project, String branch, String database, String point) {
        ConnectionInfo info = branches.connection(project, branch);
        int port = info.port();
        Properties properties = new Properties();
        properties.setProperty("user", info.user());
        properties.setProperty("password", info.password());
        properties.setProperty("sslmode", "disable"); // loopback to our own proxy
        properties.setProperty("ApplicationName", "pgbranch console");
        properties.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
        properties.setProperty("loginTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
        if (point != null) {
            if (info.routingPort() == 0) {
                throw new ConsoleException(ConsoleException.Code.BAD_REQUEST,
                        "this server has no routing port, and time travel is served only there");
            }
            RoutingName.Target target;
            try {
                target = RoutingName.parseTarget(info.branch() + "@" + point.strip())
                        .orElseThrow(() -> new BranchException(ErrorCode.BAD_REQUEST, "not a branch: " + info.branch()));
            } catch (BranchException e) {
                throw new ConsoleException(ConsoleException.Code.BAD_REQUEST, "time travel point: " + e.getMessage());
            }
            port = info.routingPort();
            properties.setProperty("options", "branch=" + target);
        }
        String url = "jdbc:postgresql://" + info.host() + ":" + port + "/"
                + URLEncoder.encode(database == null ? info.database() : database, StandardCharsets.UTF_8);
        try {
            Connection connection = DriverManager.getConnection(url, properties);
            if (point != null) {
                connection.setReadOnly(true);
            }
            return connection;
        } catch (SQLException e) {
            throw new ConsoleException(ConsoleException.Code.CONNECT_FAILED, "cannot connect to " + branch
                    + (point == null ? "" : " at " + point) + ": " + e.getMessage(), e.getSQLState(), e);
        }
    }
}

package dev.pgbranch.pageserver.console;

import dev.pgbranch.pageserver.branch.BranchService;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a branch's own catalog for the console's pickers and its reset modal: the databases,
 * the roles and the open client sessions. Fixed queries only. Connecting wakes a suspended
 * compute, as any client would.
 *
 * <p>Thread-safe.
 */
final class BranchInsight {

    private static final String DATABASES = "SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn"
            + " ORDER BY datname COLLATE \"C\"";
    private static final String ROLES = "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1";
    private static final String SESSIONS = "SELECT pid, usename, datname, host(client_addr), application_name, state,"
            + " backend_start FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            + " ORDER BY backend_start";

    private final BranchService branches;
    private final BranchConnector connector;

    BranchInsight(BranchService branches, BranchConnector connector) {
        this.branches = branches;
        this.connector = connector;
    }

    List<String> databases(String project, String branch) {
        try (Connection c = connector.open(project, branch, null, null); Statement s = c.createStatement()) {
            return strings(s, DATABASES);
        } catch (SQLException e) {
            throw failed(branch, e);
        }
    }

    ResetImpact resetImpact(String project, String branch) {
        String parent = branches.show(project, branch).parent();
        try (Connection c = connector.open(project, branch, null, null); Statement s = c.createStatement()) {
            List<String> databases = strings(s, DATABASES);
            List<String> roles = strings(s, ROLES);
            List<ResetImpact.Session> sessions = new ArrayList<>();
            try (ResultSet rs = s.executeQuery(SESSIONS)) {
                while (rs.next()) {
                    sessions.add(new ResetImpact.Session(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getString(7)));
                }
            }
            return new ResetImpact(branch, parent, databases, roles, sessions);
        } catch (SQLException e) {
            throw failed(branch, e);
        }
    }

    private static List<String> strings(Statement s, String query) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(query)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static ConsoleException failed(String branch, SQLException e) {
        return new ConsoleException(ConsoleException.Code.CONNECT_FAILED, "cannot read the catalog of " + branch + ": "
                + e.getMessage(), e.getSQLState(), e);
    }
}

package dev.pgbranch.pageserver.review;

import dev.pgbranch.pageserver.schema.ConnectionSource;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * One Postgres server taking part in a review (a branch through the proxy, or the base compute)
 * and how to log in. Holds the superuser password: {@link #toString()} never shows it.
 *
 * <p>Immutable, thread-safe.
 *
 * @param label shown in reports: a branch name, or {@code parent@lsn} for the base
 */
record Endpoint(String label, String host, int port, String user, String password) {

    /** Seconds pgjdbc waits for the TCP connection and the login (a proxy may be waking a compute). */
    private static final int CONNECT_TIMEOUT_SECONDS = 60;

    /** A connection source for {@code database} on this server. */
    ConnectionSource database(String database) {
        String url = "jdbc:postgresql://" + host + ":" + port + "/" + URLEncoder.encode(database, StandardCharsets.UTF_8)
                + "?connectTimeout=" + CONNECT_TIMEOUT_SECONDS + "&loginTimeout=" + CONNECT_TIMEOUT_SECONDS;
        return ConnectionSource.jdbc(label, url, user, password);
    }

    /**
     * The databases a user can connect to, sorted: everything but templates and databases that
     * refuse connections. Read through {@code postgres} (or {@code template1} if that was dropped).
     */
    List<String> databases() {
        SQLException first = null;
        for (String via : List.of("postgres", "template1")) {
            try (Connection c = database(via).open(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn"
                         + " ORDER BY datname COLLATE \"C\"")) {
                List<String> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
                return out;
            } catch (SQLException e) {
                if (!"3D000".equals(e.getSQLState())) { // anything but "database does not exist"
                    throw introspectionFailed(e);
                }
                first = first == null ? e : first;
            }
        }
        throw introspectionFailed(first);
    }

    private ReviewException introspectionFailed(SQLException e) {
        return new ReviewException(ReviewException.Code.INTROSPECTION_FAILED, "cannot list the databases of " + label
                + " (127.0.0.1:" + port + "): " + e.getMessage(), e.getSQLState(), e);
    }

    @Override
    public String toString() {
        return label + " (" + user + "@" + host + ":" + port + ")";
    }
}

package dev.pgbranch.pageserver.schema;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Objects;
import java.util.Properties;

/**
 * Where one side of a diff lives: a label for reports (usually the branch name) and a way to
 * open a fresh JDBC connection to the database to compare. Each call to {@link #open()} must
 * return a new connection that the caller closes.
 *
 * <p>Implementations must be thread-safe if shared between concurrent diffs.
 */
public interface ConnectionSource {

    /** Name shown in reports, e.g. {@code dev/alex} or {@code development}. */
    String label();

    /** Opens a new connection; the caller closes it. */
    Connection open() throws SQLException;

    /** A source over pgjdbc; the password is only held, never logged or shown by {@link #toString()}. */
    static ConnectionSource jdbc(String label, String url, String user, String password) {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(url, "url");
        return new ConnectionSource() {
            @Override
            public String label() {
                return label;
            }

            @Override
            public Connection open() throws SQLException {
                Properties p = new Properties();
                if (user != null) {
                    p.setProperty("user", user);
                }
                if (password != null) {
                    p.setProperty("password", password);
                }
                p.setProperty("ApplicationName", "pgbranch schema diff");
                return DriverManager.getConnection(url, p);
            }

            @Override
            public String toString() {
                return label + " (" + url + ")";
            }
        };
    }
}

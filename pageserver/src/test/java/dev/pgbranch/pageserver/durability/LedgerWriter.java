package dev.pgbranch.pageserver.durability;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client of the crash test: over its own pgjdbc connection through the proxy, runs ledger
 * transactions back to back as fast as the server answers (INSERT one ledger row, UPDATE one
 * account by the same amount, COMMIT with {@code synchronous_commit = on}) and records each id's
 * fate in the {@link LedgerBook}. It runs until its connection dies (the server is killed) or
 * {@link #stop} is called; the exception that ended it is kept with the time it came.
 *
 * <p>Thread-safety: {@link #run} on one thread; the getters and {@link #stop} from any.
 */
final class LedgerWriter implements Runnable {

    private final String url;
    private final Properties properties;
    private final AtomicLong ids;
    private final LedgerBook book;
    private volatile boolean stopped;
    private volatile long acknowledged;
    private volatile SQLException failure;
    private volatile long failedAtNanos;

    LedgerWriter(String url, Properties properties, AtomicLong ids, LedgerBook book) {
        this.url = url;
        this.properties = properties;
        this.ids = ids;
        this.book = book;
    }

    @Override
    public void run() {
        try (Connection connection = DriverManager.getConnection(url, properties)) {
            connection.setAutoCommit(false);
            try (PreparedStatement settings = connection.prepareStatement("SET synchronous_commit = on")) {
                settings.execute();
            }
            connection.commit();
            try (PreparedStatement insert = connection.prepareStatement(
                    "INSERT INTO ledger (id, account, amount) VALUES (?, ?, ?)");
                 PreparedStatement update = connection.prepareStatement(
                         "UPDATE accounts SET balance = balance + ? WHERE account = ?")) {
                while (!stopped) {
                    long id = ids.incrementAndGet();
                    book.sending(id);
                    try {
                        insert.setLong(1, id);
                        insert.setInt(2, LedgerBook.accountOf(id));
                        insert.setLong(3, LedgerBook.amountOf(id));
                        insert.executeUpdate();
                        update.setLong(1, LedgerBook.amountOf(id));
                        update.setInt(2, LedgerBook.accountOf(id));
                        if (update.executeUpdate() != 1) {
                            throw new SQLException("account " + LedgerBook.accountOf(id) + " does not exist");
                        }
                    } catch (SQLException e) {
                        book.rolledBack(id); // COMMIT was never sent: the transaction cannot have committed
                        throw e;
                    }
                    try {
                        connection.commit();
                    } catch (SQLException e) {
                        book.inDoubt(id); // COMMIT sent, no answer: the server may or may not have committed
                        throw e;
                    }
                    book.acknowledged(id);
                    acknowledged++;
                }
            }
        } catch (SQLException e) {
            failedAtNanos = System.nanoTime();
            failure = e;
        }
    }

    void stop() {
        stopped = true;
    }

    long acknowledged() {
        return acknowledged;
    }

    /** What ended this writer, or null if it was stopped (or still runs). */
    SQLException failure() {
        return failure;
    }

    long failedAtNanos() {
        return failedAtNanos;
    }
}

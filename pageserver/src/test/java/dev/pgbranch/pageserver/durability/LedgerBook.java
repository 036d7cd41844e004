package dev.pgbranch.pageserver.durability;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the clients of the crash test know about the ledger: for every transaction id, what
 * they sent and what the server answered. The ledger holds one row per committed transaction,
 * {@code ledger(id, account, amount)}, and each transaction also adds {@code amount} to
 * {@code accounts.balance} of {@code account}; account and amount are functions of the id, so a
 * row that exists must carry exactly them.
 *
 * <p>The states of an id and what the database may show after a crash:
 *
 * <pre>
 *   SENT          BEGIN/INSERT/UPDATE sent, COMMIT not yet      (transient, while a writer runs)
 *   ROLLED_BACK   the connection died before COMMIT was sent    must be absent, forever
 *   IN_DOUBT      COMMIT sent, connection died before the reply present or absent, once decided
 *   ACKNOWLEDGED  COMMIT answered                               must be present, forever
 *   IN_DOUBT_PRESENT / IN_DOUBT_ABSENT   what recovery decided; must not change afterwards
 * </pre>
 *
 * An id the clients never used must never be present. The invariants of the two tables: every
 * account's balance is the sum of its ledger rows' amounts (so sum(balance) = sum(amount)).
 *
 * <p>Thread-safety: the writers record concurrently; {@link #verify} is called while no writer runs.
 */
final class LedgerBook {

    static final int ACCOUNTS = 100;

    enum State { SENT, ROLLED_BACK, IN_DOUBT, ACKNOWLEDGED, IN_DOUBT_PRESENT, IN_DOUBT_ABSENT }

    /**
     * The ledger and the balances as one branch shows them: the rows, and Postgres's own
     * count(*), sum(amount) and sum(balance) in the same snapshot.
     */
    record Snapshot(Map<Long, long[]> rows, Map<Integer, Long> balances, long count, long sumAmount, long sumBalance) {

        /** Reads both tables in one repeatable-read transaction. */
        static Snapshot read(Connection connection) throws SQLException {
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false);
            connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try (Statement sql = connection.createStatement()) {
                Map<Long, long[]> rows = new HashMap<>();
                try (ResultSet rs = sql.executeQuery("SELECT id, account, amount FROM ledger")) {
                    while (rs.next()) {
                        rows.put(rs.getLong(1), new long[] {rs.getLong(2), rs.getLong(3)});
                    }
                }
                Map<Integer, Long> balances = new HashMap<>();
                try (ResultSet rs = sql.executeQuery("SELECT account, balance FROM accounts")) {
                    while (rs.next()) {
                        balances.put(rs.getInt(1), rs.getLong(2));
                    }
                }
                try (ResultSet rs = sql.executeQuery("SELECT (SELECT count(*) FROM ledger),"
                        + " (SELECT coalesce(sum(amount), 0) FROM ledger), (SELECT coalesce(sum(balance), 0) FROM accounts)")) {
                    rs.next();
                    Snapshot snapshot = new Snapshot(rows, balances, rs.getLong(1), rs.getLong(2), rs.getLong(3));
                    connection.commit();
                    return snapshot;
                }
            } finally {
                connection.setAutoCommit(autoCommit);
                connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            }
        }
    }

    /** The outcome of one {@link #verify}: problems (empty = consistent) and how in-doubt ids resolved. */
    record Check(List<String> violations, int rows, int inDoubtPresent, int inDoubtAbsent, int rolledBack) {
    }

    private final Map<Long, State> states = new ConcurrentHashMap<>();

    static int accountOf(long id) {
        return (int) Math.floorMod(id * 7919L, (long) ACCOUNTS);
    }

    static long amountOf(long id) {
        return Math.floorMod(id * 104_729L, 2001L) - 1000L;
    }

    void sending(long id) {
        if (states.putIfAbsent(id, State.SENT) != null) {
            throw new IllegalStateException("id " + id + " used twice");
        }
    }

    void rolledBack(long id) {
        states.put(id, State.ROLLED_BACK);
    }

    void inDoubt(long id) {
        states.put(id, State.IN_DOUBT);
    }

    void acknowledged(long id) {
        states.put(id, State.ACKNOWLEDGED);
    }

    /** Ids whose COMMIT was acknowledged (or which recovery showed committed) up to now. */
    Set<Long> committed() {
        Set<Long> out = new HashSet<>();
        states.forEach((id, state) -> {
            if (state == State.ACKNOWLEDGED || state == State.IN_DOUBT_PRESENT) {
                out.add(id);
            }
        });
        return out;
    }

    long count(State state) {
        return states.values().stream().filter(s -> s == state).count();
    }

    /**
     * Checks the branch the writers write to after a crash and recovery, and decides the in-doubt
     * ids: from then on a present one must stay present and an absent one absent.
     */
    Check verify(Snapshot snapshot) {
        List<String> violations = new ArrayList<>();
        int present = 0;
        int absent = 0;
        int rolledBack = 0;
        for (Map.Entry<Long, State> e : states.entrySet()) {
            long id = e.getKey();
            boolean exists = snapshot.rows().containsKey(id);
            switch (e.getValue()) {
                case SENT -> violations.add("id " + id + " is still being sent: a writer did not stop");
                case ACKNOWLEDGED, IN_DOUBT_PRESENT -> {
                    if (!exists) {
                        violations.add("LOST: id " + id + " (" + e.getValue() + ") is missing");
                    }
                }
                case ROLLED_BACK -> {
                    rolledBack++;
                    if (exists) {
                        violations.add("id " + id + " is present, but its COMMIT was never sent");
                    }
                }
                case IN_DOUBT_ABSENT -> {
                    if (exists) {
                        violations.add("id " + id + " was absent after an earlier recovery and is present now");
                    }
                }
                case IN_DOUBT -> {
                    if (exists) {
                        present++;
                        e.setValue(State.IN_DOUBT_PRESENT);
                    } else {
                        absent++;
                        e.setValue(State.IN_DOUBT_ABSENT);
                    }
                }
            }
        }
        checkRows(snapshot, violations);
        long expected = count(State.ACKNOWLEDGED) + count(State.IN_DOUBT_PRESENT);
        if (snapshot.count() != expected) {
            violations.add("count(*) = " + snapshot.count() + ", expected " + expected
                    + " (acknowledged + in doubt and present)");
        }
        return new Check(violations, snapshot.rows().size(), present, absent, rolledBack);
    }

    /**
     * Checks a branch taken from the writers' branch (a create or a reset): it must hold every id
     * committed before the operation was requested ({@code committedBefore}), nothing the
     * clients never committed, nothing the writers' branch itself lost (call after {@link #verify}),
     * and consistent balances.
     */
    List<String> verifyBranchPoint(Snapshot snapshot, Set<Long> committedBefore) {
        List<String> violations = new ArrayList<>();
        int missing = 0;
        for (long id : committedBefore) {
            if (!snapshot.rows().containsKey(id) && missing++ < 10) {
                violations.add("id " + id + ", committed before the branch operation, is missing on the branch");
            }
        }
        for (long id : snapshot.rows().keySet()) {
            State state = states.get(id);
            if (state == null || state == State.ROLLED_BACK || state == State.SENT) {
                violations.add("id " + id + " is on the branch, but its writer never committed it (" + state + ")");
            } else if (state == State.IN_DOUBT_ABSENT) {
                violations.add("id " + id + " is on the branch, but its parent lost it in a later crash");
            }
        }
        checkRows(snapshot, violations);
        return violations;
    }

    /** Rows carry their id's account and amount, no id was never used, and balances match the rows. */
    private void checkRows(Snapshot snapshot, List<String> violations) {
        Map<Integer, Long> sums = new HashMap<>();
        long totalAmount = 0;
        for (Map.Entry<Long, long[]> row : snapshot.rows().entrySet()) {
            long id = row.getKey();
            long account = row.getValue()[0];
            long amount = row.getValue()[1];
            if (!states.containsKey(id)) {
                violations.add("id " + id + " is present but no client ever sent it");
            }
            if (account != accountOf(id) || amount != amountOf(id)) {
                violations.add("id " + id + " reads (" + account + ", " + amount + "), written as (" + accountOf(id)
                        + ", " + amountOf(id) + ")");
            }
            sums.merge((int) account, amount, Long::sum);
            totalAmount += amount;
        }
        long totalBalance = 0;
        if (snapshot.balances().size() != ACCOUNTS) {
            violations.add(snapshot.balances().size() + " accounts instead of " + ACCOUNTS);
        }
        for (Map.Entry<Integer, Long> account : snapshot.balances().entrySet()) {
            long expected = sums.getOrDefault(account.getKey(), 0L);
            totalBalance += account.getValue();
            if (account.getValue() != expected) {
                violations.add("account " + account.getKey() + " has balance " + account.getValue()
                        + " but its ledger rows sum to " + expected);
            }
        }
        if (snapshot.sumBalance() != snapshot.sumAmount()) {
            violations.add("sum(balance) = " + snapshot.sumBalance() + " but sum(amount) = " + snapshot.sumAmount());
        }
        if (snapshot.count() != snapshot.rows().size() || snapshot.sumAmount() != totalAmount
                || snapshot.sumBalance() != totalBalance) {
            violations.add("Postgres's aggregates (" + snapshot.count() + " rows, sum(amount) " + snapshot.sumAmount()
                    + ", sum(balance) " + snapshot.sumBalance() + ") disagree with the rows read (" + snapshot.rows().size()
                    + ", " + totalAmount + ", " + totalBalance + ")");
        }
    }
}

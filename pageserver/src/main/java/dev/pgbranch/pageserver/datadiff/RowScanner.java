package dev.pgbranch.pageserver.datadiff;

import org.roaringbitmap.RoaringBitmap;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;

/**
 * Reads one table's rows on one side, in key order, as a cursor: only the rows in the scope's
 * blocks, with TID range scans ({@code ctid >= '(a,0)' AND ctid < '(b,0)'}, one per run of
 * consecutive blocks, many runs per statement joined by {@code UNION ALL}; few rows, sorted
 * here), or the whole table streamed in the server's order ({@code ORDER BY key::text COLLATE
 * "C"}, so memory stays flat whatever the table's size). One repeatable-read snapshot per side.
 * Values are Postgres's text output, null kept.
 *
 * <p>Rows are keyed by the key columns' values; without a key, by the whole row plus its
 * occurrence number ({@code #0000000001} ...), so duplicate rows compare as a multiset.
 *
 * <p>Not thread-safe (uses the caller's connection, which it leaves in a transaction until
 * {@link Cursor#close()}).
 */
final class RowScanner {

    /** Block runs per statement: keeps statements short while saving round trips. */
    private static final int RUNS_PER_STATEMENT = 64;
    private static final int FETCH_SIZE = 10_000;

    /** Key order: lexicographic by code point, as {@code COLLATE "C"} sorts UTF-8; null first. */
    static final Comparator<List<String>> KEY_ORDER = (a, b) -> {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            String x = a.get(i);
            String y = b.get(i);
            if (x == null || y == null) {
                if (x != y) {
                    return x == null ? -1 : 1;
                }
                continue;
            }
            int c = compareCodePoints(x, y);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    };

    private RowScanner() {
    }

    private static int compareCodePoints(String x, String y) {
        int i = 0;
        int j = 0;
        while (i < x.length() && j < y.length()) {
            int a = x.codePointAt(i);
            int b = y.codePointAt(j);
            if (a != b) {
                return Integer.compare(a, b);
            }
            i += Character.charCount(a);
            j += Character.charCount(b);
        }
        return Integer.compare(x.length() - i, y.length() - j);
    }

    /** Rows in key order; {@link #peekKey()} is null at the end. */
    interface Cursor extends AutoCloseable {
        List<String> peekKey() throws SQLException;

        /** The values of the row at {@link #peekKey()}, moving past it. */
        List<String> take() throws SQLException;

        @Override
        void close() throws SQLException;
    }

    /** A side without the table: no rows. */
    static Cursor empty() {
        return new Cursor() {
            @Override
            public List<String> peekKey() {
                return null;
            }

            @Override
            public List<String> take() {
                throw new NoSuchElementException();
            }

            @Override
            public void close() {
            }
        };
    }

    static Cursor open(Connection c, String table, List<String> key, List<String> columns, Scope scope) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        c.setReadOnly(true);
        Runnable end = () -> {
            try {
                c.rollback();
                c.setAutoCommit(autoCommit);
            } catch (SQLException e) {
                // The connection is closed by the caller anyway; nothing was written.
            }
        };
        try {
            String select = select(table, key, columns);
            if (scope.isFull()) {
                List<String> order = new ArrayList<>();
                for (String k : key.isEmpty() ? columns : key) {
                    order.add(SqlText.ident(k) + "::text COLLATE \"C\" NULLS FIRST");
                }
                String sql = select + (order.isEmpty() ? "" : " ORDER BY " + String.join(", ", order));
                return new Streamed(c, sql, key.size(), columns.size(), key.isEmpty(), end);
            }
            TreeMap<List<String>, List<String>> rows = new TreeMap<>(KEY_ORDER);
            Map<List<String>, Integer> occurrences = new HashMap<>();
            List<long[]> runs = runs(scope.blocks());
            for (int i = 0; i < runs.size(); i += RUNS_PER_STATEMENT) {
                StringBuilder sql = new StringBuilder();
                for (long[] run : runs.subList(i, Math.min(runs.size(), i + RUNS_PER_STATEMENT))) {
                    if (!sql.isEmpty()) {
                        sql.append(" UNION ALL ");
                    }
                    sql.append('(').append(select).append(" WHERE ctid >= '(").append(run[0]).append(",0)'::tid AND ctid < '(")
                            .append(run[1]).append(",0)'::tid)");
                }
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql.toString())) {
                    while (rs.next()) {
                        List<String> keyValues = values(rs, 1, key.size());
                        List<String> values = values(rs, key.size() + 1, columns.size());
                        if (key.isEmpty()) {
                            keyValues = new ArrayList<>(values);
                            keyValues.add(occurrence(occurrences.merge(values, 1, Integer::sum)));
                            keyValues = Collections.unmodifiableList(keyValues);
                        }
                        rows.put(keyValues, values);
                    }
                }
            }
            end.run();
            var it = rows.entrySet().iterator();
            return new Cursor() {
                Map.Entry<List<String>, List<String>> next = it.hasNext() ? it.next() : null;

                @Override
                public List<String> peekKey() {
                    return next == null ? null : next.getKey();
                }

                @Override
                public List<String> take() {
                    List<String> v = next.getValue();
                    next = it.hasNext() ? it.next() : null;
                    return v;
                }

                @Override
                public void close() {
                }
            };
        } catch (SQLException | RuntimeException e) {
            end.run();
            throw e;
        }
    }

    /** The whole table from the server, in key order, {@link #FETCH_SIZE} rows at a time. */
    private static final class Streamed implements Cursor {
        private final Statement statement;
        private final ResultSet rs;
        private final int keys;
        private final int columns;
        private final boolean wholeRow;
        private final Runnable end;
        private List<String> key;
        private List<String> values;
        private List<String> previousRow;
        private int occurrence;

        Streamed(Connection c, String sql, int keys, int columns, boolean wholeRow, Runnable end) throws SQLException {
            this.statement = c.createStatement();
            statement.setFetchSize(FETCH_SIZE);
            this.rs = statement.executeQuery(sql);
            this.keys = keys;
            this.columns = columns;
            this.wholeRow = wholeRow;
            this.end = end;
            advance();
        }

        private void advance() throws SQLException {
            if (!rs.next()) {
                key = null;
                values = null;
                return;
            }
            values = values(rs, keys + 1, columns);
            if (wholeRow) {
                occurrence = values.equals(previousRow) ? occurrence + 1 : 1;
                previousRow = values;
                List<String> k = new ArrayList<>(values);
                k.add(occurrence(occurrence));
                key = Collections.unmodifiableList(k);
            } else {
                key = values(rs, 1, keys);
            }
        }

        @Override
        public List<String> peekKey() {
            return key;
        }

        @Override
        public List<String> take() throws SQLException {
            List<String> v = values;
            advance();
            return v;
        }

        @Override
        public void close() throws SQLException {
            try {
                rs.close();
                statement.close();
            } finally {
                end.run();
            }
        }
    }

    /** A duplicate row's number, padded so that text order is numeric order. */
    private static String occurrence(int n) {
        return String.format("#%010d", n);
    }

    private static List<String> values(ResultSet rs, int from, int count) throws SQLException {
        List<String> out = new ArrayList<>(count);
        for (int i = from; i < from + count; i++) {
            out.add(rs.getString(i));
        }
        return Collections.unmodifiableList(out);
    }

    private static String select(String table, List<String> key, List<String> columns) {
        StringBuilder sb = new StringBuilder("SELECT ");
        List<String> all = new ArrayList<>(key);
        all.addAll(columns);
        for (int i = 0; i < all.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(SqlText.ident(all.get(i))).append("::text");
        }
        if (all.isEmpty()) {
            sb.append("1");
        }
        return sb.append(" FROM ONLY ").append(table).toString();
    }

    /** Runs of consecutive blocks as {@code [first, end)} pairs, ascending. */
    static List<long[]> runs(RoaringBitmap blocks) {
        List<long[]> out = new ArrayList<>();
        long start = -1;
        long end = -1;
        for (int b : blocks) {
            long block = Integer.toUnsignedLong(b);
            if (block == end) {
                end++;
                continue;
            }
            if (start >= 0) {
                out.add(new long[] {start, end});
            }
            start = block;
            end = block + 1;
        }
        if (start >= 0) {
            out.add(new long[] {start, end});
        }
        return out;
    }
}

package dev.pgbranch.pageserver.datadiff;

import java.util.regex.Pattern;

/**
 * Identifier and literal quoting for the SQL the data diff writes. Quotes every identifier that
 * is not plain lower case (and the few words a column is often called that are reserved);
 * stateless, thread-safe.
 */
final class SqlText {

    private static final Pattern PLAIN = Pattern.compile("[a-z_][a-z0-9_]*");
    private static final java.util.Set<String> RESERVED = java.util.Set.of("all", "and", "any", "array", "as", "asc",
            "case", "check", "column", "constraint", "create", "default", "desc", "distinct", "do", "else", "end",
            "for", "foreign", "from", "grant", "group", "having", "in", "into", "is", "join", "limit", "not", "null",
            "offset", "on", "only", "or", "order", "primary", "references", "select", "table", "then", "to", "union",
            "unique", "user", "using", "when", "where", "with", "window", "time", "timestamp", "values", "position");

    private SqlText() {
    }

    static String ident(String name) {
        return PLAIN.matcher(name).matches() && !RESERVED.contains(name) ? name : '"' + name.replace("\"", "\"\"") + '"';
    }

    /** {@code 'value'::type}, or {@code NULL}. */
    static String typed(String value, String type) {
        return value == null ? "NULL" : "'" + value.replace("'", "''") + "'::" + type;
    }
}

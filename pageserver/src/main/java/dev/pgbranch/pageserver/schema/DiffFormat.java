package dev.pgbranch.pageserver.schema;

import java.util.Locale;

/** Output formats of a {@link SchemaDiff}. Thread-safe. */
public enum DiffFormat {
    /** Object by object, one property a line, {@code old | new}. */
    SIDE_BY_SIDE,
    /** {@code ---}/{@code +++} headers, one {@code @@} hunk per object, {@code -}/{@code +} lines. */
    UNIFIED,
    /** Machine-readable: changes, three-way sections and the migration statements. */
    JSON,
    /** The migration that turns the target into the source, in dependency order. */
    SQL;

    /** Parses {@code side-by-side}, {@code unified}, {@code json} or {@code sql} (any case, {@code _} or {@code -}). */
    public static DiffFormat parse(String text) {
        String t = text == null ? "" : text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (DiffFormat f : values()) {
            if (f.name().equals(t)) {
                return f;
            }
        }
        throw new SchemaException(SchemaException.Code.BAD_REQUEST,
                "unknown diff format '" + text + "' (expected side-by-side, unified, json or sql)");
    }
}

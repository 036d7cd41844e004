package dev.pgbranch.pageserver.schema;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One object that differs between two schemas. {@code before} is the object's compared
 * properties on the older side (the target, or the base in a three-way diff), {@code after} on
 * the newer side (the source, or the branch/parent); the missing side is null.
 *
 * <p>Immutable, thread-safe.
 */
public record Change(Type type, ObjectId id, SortedMap<String, String> before, SortedMap<String, String> after) {

    /** What happened to the object going from {@code before} to {@code after}. */
    public enum Type { ADDED, REMOVED, CHANGED }

    public Change {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(id, "id");
        before = before == null ? null : Collections.unmodifiableSortedMap(new TreeMap<>(before));
        after = after == null ? null : Collections.unmodifiableSortedMap(new TreeMap<>(after));
    }

    /** Property names whose values differ (all names for additions and removals). */
    public List<String> changedProperties() {
        TreeSet<String> keys = new TreeSet<>();
        if (before != null) {
            keys.addAll(before.keySet());
        }
        if (after != null) {
            keys.addAll(after.keySet());
        }
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            if (!Objects.equals(value(before, k), value(after, k))) {
                out.add(k);
            }
        }
        return out;
    }

    private static String value(Map<String, String> m, String k) {
        return m == null ? null : m.get(k);
    }

    /** Compares two snapshots object by object; {@code older} → {@code newer}, sorted by identity. */
    static List<Change> between(SchemaSnapshot older, SchemaSnapshot newer) {
        TreeSet<ObjectId> ids = new TreeSet<>(older.objects().keySet());
        ids.addAll(newer.objects().keySet());
        List<Change> out = new ArrayList<>();
        for (ObjectId id : ids) {
            DbObject o = older.get(id);
            DbObject n = newer.get(id);
            if (o == null) {
                out.add(new Change(Type.ADDED, id, null, n.props()));
            } else if (n == null) {
                out.add(new Change(Type.REMOVED, id, o.props(), null));
            } else if (!o.sameAs(n)) {
                out.add(new Change(Type.CHANGED, id, o.props(), n.props()));
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return type.name().toLowerCase(java.util.Locale.ROOT) + " " + id + (type == Type.CHANGED ? " " + changedProperties() : "");
    }
}

package dev.pgbranch.pageserver.schema;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One introspected catalog object: its identity, the properties that are compared between
 * databases, and layout facts that are used to write SQL but never compared (column and
 * attribute positions, which Postgres cannot reorder in place; the default ACL a new copy of
 * the object would start with).
 *
 * <p>{@code parent} is the object whose {@code DROP} implicitly drops this one (a column's table,
 * an index's table, a serial sequence's owning column); null when there is none.
 *
 * <p>Immutable, thread-safe.
 */
record DbObject(ObjectId id, ObjectId parent, SortedMap<String, String> props, Map<String, String> layout) {

    DbObject {
        props = Collections.unmodifiableSortedMap(new TreeMap<>(props));
        layout = Map.copyOf(layout);
    }

    String prop(String key) {
        return props.get(key);
    }

    /** True when the compared properties are equal: what "no difference" means for the diff. */
    boolean sameAs(DbObject other) {
        return other != null && props.equals(other.props);
    }

    static Builder builder(ObjectId id) {
        return new Builder(id);
    }

    /** Collects properties while reading a catalog row; null values are left out. */
    static final class Builder {
        private final ObjectId id;
        private ObjectId parent;
        private final TreeMap<String, String> props = new TreeMap<>();
        private final TreeMap<String, String> layout = new TreeMap<>();

        private Builder(ObjectId id) {
            this.id = id;
        }

        Builder parent(ObjectId p) {
            this.parent = p;
            return this;
        }

        Builder prop(String key, String value) {
            if (value != null) {
                props.put(key, value);
            }
            return this;
        }

        Builder layout(String key, String value) {
            if (value != null) {
                layout.put(key, value);
            }
            return this;
        }

        DbObject build() {
            return new DbObject(id, parent, props, layout);
        }
    }
}

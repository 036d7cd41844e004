package dev.pgbranch.pageserver.schema;

import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The modelled schema of one database at one moment: objects by identity, and the dependency
 * edges between them ({@code from} depends on {@code to}: create {@code to} first, drop
 * {@code from} first), taken from {@code pg_depend} plus the implicit child-to-relation edges.
 * {@code currentUser} is the role the snapshot was read as; created objects already belong to
 * it, so no {@code OWNER TO} is written for them when it is also the wanted owner.
 *
 * <p>Immutable once built, thread-safe.
 */
record SchemaSnapshot(SortedMap<ObjectId, DbObject> objects, Map<ObjectId, Set<ObjectId>> dependsOn, String currentUser) {

    SchemaSnapshot {
        objects = Collections.unmodifiableSortedMap(new TreeMap<>(objects));
        Map<ObjectId, Set<ObjectId>> copy = new HashMap<>();
        dependsOn.forEach((k, v) -> copy.put(k, Set.copyOf(v)));
        dependsOn = Collections.unmodifiableMap(copy);
    }

    DbObject get(ObjectId id) {
        return objects.get(id);
    }

    Set<ObjectId> dependenciesOf(ObjectId id) {
        return dependsOn.getOrDefault(id, Set.of());
    }

    /** Objects that depend directly on {@code id} (reverse edges). */
    Map<ObjectId, Set<ObjectId>> dependents() {
        Map<ObjectId, Set<ObjectId>> rev = new HashMap<>();
        dependsOn.forEach((from, tos) -> {
            for (ObjectId to : tos) {
                rev.computeIfAbsent(to, k -> new HashSet<>()).add(from);
            }
        });
        return rev;
    }
}

package dev.pgbranch.pageserver.catalog;

import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A project: one Postgres cluster (one {@code initdb}) and its tree of branches.
 *
 * <p>Immutable and thread-safe; {@link #withBranch} / {@link #withoutBranch} return copies.
 * The constructor checks the tree's invariants: every parent exists, exactly one root.
 */
public record Project(String name, Instant createdAt, Map<BranchName, Branch> branches) {

    /** The project used when a command or a path does not name one. */
    public static final String DEFAULT = "default";

    public Project {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(createdAt, "createdAt");
        if (!name.matches("[a-z0-9][a-z0-9_-]{0,62}")) {
            throw new IllegalArgumentException("invalid project name '" + name
                    + "': lowercase letters, digits, '-' and '_', at most 63");
        }
        branches = Collections.unmodifiableMap(new TreeMap<>(branches));
        int roots = 0;
        for (Branch branch : branches.values()) {
            if (branch.isRoot()) {
                roots++;
            } else if (!branches.containsKey(branch.parent())) {
                throw new IllegalArgumentException("branch '" + branch.name() + "' of project '" + name
                        + "' has a parent '" + branch.parent() + "' that does not exist");
            }
        }
        if (!branches.isEmpty() && roots != 1) {
            throw new IllegalArgumentException("project '" + name + "' must have exactly one root branch, has " + roots);
        }
    }

    public Optional<Branch> branch(BranchName branchName) {
        return Optional.ofNullable(branches.get(branchName));
    }

    /** The direct children of {@code parent}, by name. */
    public List<Branch> children(BranchName parent) {
        return branches.values().stream().filter(b -> parent.equals(b.parent())).toList();
    }

    public Project withBranch(Branch branch) {
        Map<BranchName, Branch> copy = new TreeMap<>(branches);
        copy.put(branch.name(), branch);
        return new Project(name, createdAt, copy);
    }

    public Project withoutBranch(BranchName branchName) {
        Map<BranchName, Branch> copy = new TreeMap<>(branches);
        copy.remove(branchName);
        return new Project(name, createdAt, copy);
    }
}

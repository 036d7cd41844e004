package dev.pgbranch.pageserver.catalog;

import java.time.Duration;
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
 * The constructor checks the tree's invariants: every parent exists, exactly one root; and
 * that the retention window lies between 0 and {@link #MAX_RETENTION}.
 *
 * @param retention how far back point-in-time branches and restores reach: history older than
 *     this is given up by the garbage collector (except what a child's branch point needs)
 */
public record Project(String name, Instant createdAt, Duration retention, Map<BranchName, Branch> branches) {

    /** The project used when a command or a path does not name one. */
    public static final String DEFAULT = "default";

    /** The retention window of a project that never had one set. */
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);

    /** Longest retention window accepted: about ten years, so {@code now - retention} never overflows. */
    public static final Duration MAX_RETENTION = Duration.ofDays(3650);

    /** A project with the default retention window. */
    public Project(String name, Instant createdAt, Map<BranchName, Branch> branches) {
        this(name, createdAt, DEFAULT_RETENTION, branches);
    }

    public Project {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(retention, "retention");
        if (retention.isNegative() || retention.compareTo(MAX_RETENTION) > 0) {
            throw new IllegalArgumentException("retention of project '" + name + "' must be between 0 and "
                    + MAX_RETENTION.toDays() + " days, not " + retention);
        }
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
        return new Project(name, createdAt, retention, copy);
    }

    public Project withoutBranch(BranchName branchName) {
        Map<BranchName, Branch> copy = new TreeMap<>(branches);
        copy.remove(branchName);
        return new Project(name, createdAt, retention, copy);
    }

    public Project withRetention(Duration value) {
        return new Project(name, createdAt, value, branches);
    }
}

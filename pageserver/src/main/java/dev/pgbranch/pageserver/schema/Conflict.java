package dev.pgbranch.pageserver.schema;

/**
 * An object changed on both the branch and the parent since the branch point, to different
 * results. Promote refuses while any exist unless forced (then the branch's version wins).
 *
 * <p>Immutable, thread-safe.
 */
public record Conflict(ObjectId id, Change onBranch, Change onParent) {

    @Override
    public String toString() {
        return id + ": branch " + onBranch.type().name().toLowerCase(java.util.Locale.ROOT) + " "
                + onBranch.changedProperties() + ", parent " + onParent.type().name().toLowerCase(java.util.Locale.ROOT)
                + " " + onParent.changedProperties();
    }
}

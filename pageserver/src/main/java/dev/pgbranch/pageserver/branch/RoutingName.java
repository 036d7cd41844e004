package dev.pgbranch.pageserver.branch;

import dev.pgbranch.pageserver.catalog.BranchName;
import dev.pgbranch.pageserver.catalog.Project;

import java.util.Objects;
import java.util.Optional;

/**
 * The name by which a client names a branch to the proxy ({@code options=branch=<name>},
 * {@code dbname@<name>}, SNI) and by which the proxy names it back to the server.
 *
 * <pre>
 *   dev/alex            branch dev/alex of the default project
 *   shop:dev/alex       branch dev/alex of project shop
 * </pre>
 *
 * Unambiguous because branch names never contain {@code ':'} and project names never contain
 * {@code ':'} or {@code '/'}. Immutable.
 */
public record RoutingName(String project, BranchName branch) {

    public RoutingName {
        Objects.requireNonNull(project, "project");
        Objects.requireNonNull(branch, "branch");
    }

    /** Parses a name a client sent; empty if it cannot name any branch (bad syntax). */
    public static Optional<RoutingName> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        int colon = text.indexOf(':');
        String project = colon < 0 ? Project.DEFAULT : text.substring(0, colon);
        String branch = colon < 0 ? text : text.substring(colon + 1);
        try {
            return Optional.of(new RoutingName(project, BranchName.of(branch)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return project.equals(Project.DEFAULT) ? branch.value() : project + ":" + branch.value();
    }
}

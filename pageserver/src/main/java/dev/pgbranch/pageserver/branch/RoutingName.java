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
 *   dev/alex                          branch dev/alex of the default project
 *   shop:dev/alex                     branch dev/alex of project shop
 *   dev/alex@2026-11-20T10:00:00Z     {@link Target}: dev/alex as it was at that time (time travel)
 *   shop:dev/alex@0/16B3748           {@link Target}: ... at that pgbranch LSN
 * </pre>
 *
 * Unambiguous because branch names never contain {@code ':'} or {@code '@'} and project names
 * never contain {@code ':'}, {@code '/'} or {@code '@'}: the first {@code '@'} starts the point.
 * Immutable.
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

    /**
     * What a client named: a branch and, for read-only time travel, a point in its history.
     *
     * @param point the point normalized ({@code 0/16B3748}, or an ISO-8601 UTC instant), or
     *              {@code null} for the branch itself
     */
    public record Target(RoutingName name, String point) {

        public Target {
            Objects.requireNonNull(name, "name");
        }

        public boolean timeTravel() {
            return point != null;
        }

        @Override
        public String toString() {
            return point == null ? name.toString() : name + "@" + point;
        }
    }

    /**
     * Parses a name a client sent, with an optional {@code @<point>}: an LSN as {@code branch
     * show} prints it ({@code 0/16B3748}) or an ISO-8601 time with offset, as for {@code branch
     * create --at}.
     *
     * @return empty if the part before {@code '@'} cannot name any branch (bad syntax)
     * @throws BranchException {@link ErrorCode#BAD_REQUEST} if the part after {@code '@'} is not a
     *     point in time; the message gives examples
     */
    public static Optional<Target> parseTarget(String text) {
        if (text == null) {
            return Optional.empty();
        }
        int at = text.indexOf('@');
        if (at < 0) {
            return parse(text).map(n -> new Target(n, null));
        }
        Optional<RoutingName> name = parse(text.substring(0, at));
        if (name.isEmpty()) {
            return Optional.empty();
        }
        String point = text.substring(at + 1);
        if (point.isBlank()) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "no point in time after '@' in \"" + text
                    + "\": give an LSN like " + name.get() + "@0/16B3748 or a time like " + name.get()
                    + "@2026-11-20T10:00:00Z");
        }
        return Optional.of(new Target(name.get(), PointInTime.parse(point).toString()));
    }

    @Override
    public String toString() {
        return project.equals(Project.DEFAULT) ? branch.value() : project + ":" + branch.value();
    }
}

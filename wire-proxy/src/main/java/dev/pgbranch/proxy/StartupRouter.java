package dev.pgbranch.proxy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides which branch a StartupMessage is for and rewrites it for the compute. Pure logic, no I/O.
 *
 * <p>Sources, first match wins:
 * <ol>
 *   <li>the port: a branch port serves exactly one branch (a conflicting {@code branch=} in options is
 *       an error rather than a silent surprise);</li>
 *   <li>a {@code branch=NAME} token in the {@code options} parameter (libpq {@code options=branch=dev/alex};
 *       {@code --branch=NAME} and {@code -c branch=NAME} are accepted too). The token is removed before
 *       forwarding because Postgres would reject it as an unknown switch;</li>
 *   <li>{@code database=NAME@BRANCH} (split at the first {@code @}, because the branch part may carry
 *       a point in time of its own: {@code postgres@dev/alex@2026-11-20T10:00:00Z}); the compute sees
 *       {@code NAME}, so a database whose name contains {@code @} is reached with {@code options} instead;</li>
 *   <li>the first label of the TLS SNI host name ({@code feature.db.example.com} -&gt; {@code feature}).
 *       Host names cannot carry {@code /}, so nested branch names need one of the other ways.
 *       It comes last because clients put plain host names there ({@code localhost}) that name no branch.</li>
 * </ol>
 *
 * <p>The forwarded StartupMessage is always protocol 3.0 and carries no {@code _pq_.} options; when the
 * client asked for more, {@link Route#negotiation()} is what the client must be told.
 *
 * <p>Stateless; thread-safe.
 */
final class StartupRouter {

    private StartupRouter() {
    }

    /** Where a session goes and what the compute receives. */
    record Route(String branch, PgMessage.StartupMessage forwarded, PgMessage.NegotiateProtocolVersion negotiation) {
    }

    /** A routing decision that ends the session with a FATAL error. */
    static final class RouteException extends Exception {
        private final transient PgMessage.ErrorResponse error;

        RouteException(String sqlState, String message) {
            super(message, null, false, false);
            this.error = PgMessage.ErrorResponse.fatal(sqlState, message);
        }

        PgMessage.ErrorResponse error() {
            return error;
        }
    }

    /**
     * @param portBranch branch of the port the client connected to, or null on the routing port
     * @param sniHost    TLS server name the client sent, or null
     */
    static Route route(PgMessage.StartupMessage startup, String portBranch, String sniHost) throws RouteException {
        Map<String, String> params = new LinkedHashMap<>();
        List<String> unsupported = new ArrayList<>();
        for (Map.Entry<String, String> p : startup.parameters().entrySet()) {
            if (p.getKey().startsWith("_pq_.")) {
                unsupported.add(p.getKey());
            } else {
                params.put(p.getKey(), p.getValue());
            }
        }
        String user = params.get("user");
        if (user == null || user.isEmpty()) {
            throw new RouteException(SqlStates.INVALID_AUTHORIZATION, "no PostgreSQL user name specified in startup packet");
        }

        String optionsBranch = null;
        String options = params.get("options");
        if (options != null) {
            OptionsSplit split = splitOptions(options);
            optionsBranch = split.branch;
            if (split.remaining.isEmpty()) {
                params.remove("options");
            } else {
                params.put("options", split.remaining);
            }
        }

        String branch;
        if (portBranch != null) {
            if (optionsBranch != null && !optionsBranch.equals(portBranch)) {
                throw new RouteException(SqlStates.INVALID_CATALOG_NAME, "this port serves branch \"" + portBranch
                        + "\" but the connection options name branch \"" + optionsBranch + "\"");
            }
            branch = portBranch;
        } else if (optionsBranch != null) {
            branch = optionsBranch;
        } else {
            String database = params.get("database");
            int at = database == null ? -1 : database.indexOf('@');
            if (at >= 0) {
                branch = database.substring(at + 1);
                String name = database.substring(0, at);
                params.put("database", name.isEmpty() ? user : name);
            } else if (sniHost != null && !sniHost.isEmpty()) {
                int dot = sniHost.indexOf('.');
                branch = dot < 0 ? sniHost : sniHost.substring(0, dot);
            } else {
                throw new RouteException(SqlStates.INVALID_CATALOG_NAME, "no branch named in the connection: use "
                        + "options=branch=<name>, dbname@<branch>, a TLS server name <branch>.<host>, or the branch's own port");
            }
        }
        if (branch.isEmpty()) {
            throw new RouteException(SqlStates.INVALID_CATALOG_NAME, "empty branch name in the connection");
        }
        PgMessage.NegotiateProtocolVersion negotiation = startup.minorVersion() > 0 || !unsupported.isEmpty()
                ? new PgMessage.NegotiateProtocolVersion(0, unsupported)
                : null;
        return new Route(branch, new PgMessage.StartupMessage(3, 0, params), negotiation);
    }

    private record OptionsSplit(String branch, String remaining) {
    }

    /**
     * Splits a libpq {@code options} string the way Postgres does (whitespace separates, a backslash
     * escapes the next character), takes out the branch switch and returns the rest with its escapes
     * intact.
     */
    private static OptionsSplit splitOptions(String options) {
        List<String> raw = new ArrayList<>();
        List<String> plain = new ArrayList<>();
        int i = 0;
        int n = options.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(options.charAt(i))) {
                i++;
            }
            if (i >= n) {
                break;
            }
            int start = i;
            StringBuilder value = new StringBuilder();
            while (i < n && !Character.isWhitespace(options.charAt(i))) {
                char c = options.charAt(i);
                if (c == '\\' && i + 1 < n) {
                    value.append(options.charAt(i + 1));
                    i += 2;
                } else {
                    value.append(c);
                    i++;
                }
            }
            raw.add(options.substring(start, i));
            plain.add(value.toString());
        }
        String branch = null;
        StringBuilder remaining = new StringBuilder();
        for (int t = 0; t < plain.size(); t++) {
            String token = plain.get(t);
            String value = null;
            if (token.startsWith("branch=")) {
                value = token.substring("branch=".length());
            } else if (token.startsWith("--branch=")) {
                value = token.substring("--branch=".length());
            } else if (token.equals("-c") && t + 1 < plain.size() && plain.get(t + 1).startsWith("branch=")) {
                value = plain.get(++t).substring("branch=".length());
            } else if (token.startsWith("-cbranch=")) {
                value = token.substring("-cbranch=".length());
            }
            if (value != null) {
                branch = value;
                continue;
            }
            if (!remaining.isEmpty()) {
                remaining.append(' ');
            }
            remaining.append(raw.get(t));
        }
        return new OptionsSplit(branch, remaining.toString());
    }
}

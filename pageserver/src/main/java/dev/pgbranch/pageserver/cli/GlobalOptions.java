package dev.pgbranch.pageserver.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Lets the client options go before the subcommand as well as after it, as {@code git -C} and
 * {@code kubectl --context} allow: {@code pgbranch --data-dir D branch list} is read as
 * {@code pgbranch branch list --data-dir D}. The options the leading run names are moved behind the
 * command path (before a {@code --}, if any), where every client command declares them; anything
 * else stays where it is, so {@code pgbranch --help} and {@code pgbranch --version} still work.
 *
 * <p>Stateless.
 */
final class GlobalOptions {

    /** Options taking a value that every client command (and {@code server}, for --data-dir) declares. */
    private static final Set<String> WITH_VALUE = Set.of("--data-dir", "--api", "-p", "--project", "-o", "--output");

    private GlobalOptions() {
    }

    /** The command line with leading global options moved behind the command path. */
    static String[] hoist(String[] args) {
        List<String> hoisted = new ArrayList<>();
        int i = 0;
        while (i < args.length) {
            String arg = args[i];
            int equals = arg.indexOf('=');
            if (arg.startsWith("--") && equals > 0 && WITH_VALUE.contains(arg.substring(0, equals))) {
                hoisted.add(arg);
                i++;
            } else if (WITH_VALUE.contains(arg) && i + 1 < args.length) {
                hoisted.add(arg);
                hoisted.add(args[i + 1]);
                i += 2;
            } else {
                break;
            }
        }
        if (hoisted.isEmpty() || i == args.length) {
            return args; // nothing to move, or nothing to move it behind: picocli reports it
        }
        List<String> rest = new ArrayList<>(List.of(args).subList(i, args.length));
        int endOfOptions = rest.indexOf("--");
        rest.addAll(endOfOptions < 0 ? rest.size() : endOfOptions, hoisted);
        return rest.toArray(String[]::new);
    }
}

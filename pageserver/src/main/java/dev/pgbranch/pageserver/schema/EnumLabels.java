package dev.pgbranch.pageserver.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The text form of an enum's labels in a snapshot property: SQL string literals in sort order,
 * separated by {@code ", "}, e.g. {@code 'sad', 'ok', 'it''s'}. Written by {@link Sql#literal}, so
 * the parser only needs to undo {@code ''} doubling. Stateless, thread-safe.
 */
final class EnumLabels {

    private EnumLabels() {
    }

    static String format(List<String> labels) {
        return labels.stream().map(Sql::literal).collect(Collectors.joining(", "));
    }

    static List<String> parse(String text) {
        List<String> out = new ArrayList<>();
        if (text == null || text.isEmpty()) {
            return out;
        }
        StringBuilder cur = null;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (cur == null) {
                if (ch == '\'') {
                    cur = new StringBuilder();
                }
            } else if (ch == '\'') {
                if (i + 1 < text.length() && text.charAt(i + 1) == '\'') {
                    cur.append('\'');
                    i++;
                } else {
                    out.add(cur.toString());
                    cur = null;
                }
            } else {
                cur.append(ch);
            }
        }
        return out;
    }
}

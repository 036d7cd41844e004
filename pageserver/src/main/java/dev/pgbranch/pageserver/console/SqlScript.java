package dev.pgbranch.pageserver.console;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits what the SQL editor sends into statements at top-level semicolons, the way psql
 * does: semicolons inside quoted strings ({@code '...'}, {@code E'...'}), quoted identifiers,
 * dollar-quoted bodies ({@code $fn$ ... $fn$}), line comments and nested block comments do not
 * split. Each statement keeps its offset in the script, so an error position Postgres reports
 * for the statement can be shown in the editor. The text is never changed: each statement is
 * sent to Postgres exactly as typed.
 *
 * <p>Stateless.
 */
final class SqlScript {

    /** One statement: its text (trimmed) and the offset of its first character in the script. */
    record Statement(String sql, int offset) {
    }

    private SqlScript() {
    }

    static List<Statement> split(String script) {
        List<Statement> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        int n = script.length();
        while (i < n) {
            char c = script.charAt(i);
            if (c == '\'' || c == '"') {
                i = skipQuoted(script, i, c);
            } else if (c == '-' && i + 1 < n && script.charAt(i + 1) == '-') {
                int eol = script.indexOf('\n', i);
                i = eol < 0 ? n : eol + 1;
            } else if (c == '/' && i + 1 < n && script.charAt(i + 1) == '*') {
                i = skipBlockComment(script, i);
            } else if (c == '$' && (i == 0 || !isIdentifierPart(script.charAt(i - 1)))) {
                i = skipDollarQuoted(script, i);
            } else if (c == ';') {
                add(out, script, start, i);
                start = ++i;
            } else {
                i++;
            }
        }
        add(out, script, start, n);
        return out;
    }

    private static void add(List<Statement> out, String script, int from, int to) {
        String text = script.substring(from, to);
        if (onlyCommentsOrBlank(text)) {
            return;
        }
        int lead = 0;
        while (lead < text.length() && Character.isWhitespace(text.charAt(lead))) {
            lead++;
        }
        out.add(new Statement(text.strip(), from + lead));
    }

    private static boolean onlyCommentsOrBlank(String text) {
        int i = 0;
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && i + 1 < n && text.charAt(i + 1) == '-') {
                int eol = text.indexOf('\n', i);
                i = eol < 0 ? n : eol + 1;
            } else if (c == '/' && i + 1 < n && text.charAt(i + 1) == '*') {
                i = skipBlockComment(text, i);
            } else {
                return false;
            }
        }
        return true;
    }

    /** Past the closing quote; a doubled quote is an escaped one. Unterminated: the end. */
    private static int skipQuoted(String s, int open, char quote) {
        boolean backslashEscapes = quote == '\'' && open > 0 && (s.charAt(open - 1) == 'E' || s.charAt(open - 1) == 'e');
        int i = open + 1;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (backslashEscapes && c == '\\') {
                i += 2;
            } else if (c == quote) {
                if (i + 1 < s.length() && s.charAt(i + 1) == quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return s.length();
    }

    /** Block comments nest in Postgres. */
    private static int skipBlockComment(String s, int open) {
        int depth = 0;
        int i = open;
        while (i < s.length()) {
            if (s.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (s.startsWith("*/", i)) {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return s.length();
    }

    /** {@code $tag$ ... $tag$}; a {@code $} that opens no tag ({@code $1}) is one character. */
    private static int skipDollarQuoted(String s, int open) {
        int close = open + 1;
        while (close < s.length() && isTagPart(s.charAt(close), close == open + 1)) {
            close++;
        }
        if (close >= s.length() || s.charAt(close) != '$') {
            return open + 1;
        }
        String tag = s.substring(open, close + 1);
        int end = s.indexOf(tag, close + 1);
        return end < 0 ? s.length() : end + tag.length();
    }

    private static boolean isTagPart(char c, boolean first) {
        return Character.isLetter(c) || c == '_' || !first && Character.isDigit(c);
    }

    private static boolean isIdentifierPart(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}

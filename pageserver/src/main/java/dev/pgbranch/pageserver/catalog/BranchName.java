package dev.pgbranch.pageserver.catalog;

import java.nio.charset.StandardCharsets;

/**
 * A validated branch name such as {@code production} or {@code dev/alex}.
 *
 * <p>Rules, chosen so that a name is safe everywhere it travels (URL path segments once
 * encoded, file names once escaped, the proxy's {@code options=branch=...} token, which libpq
 * splits on whitespace, and {@code dbname@branch} routing):
 * <ul>
 *   <li>1 to {@value #MAX_BYTES} bytes in UTF-8 (Postgres's identifier limit);</li>
 *   <li>only letters, digits, {@code - _ .} and {@code /};</li>
 *   <li>{@code /} separates segments: no leading or trailing {@code /}, no empty segment
 *       ({@code //}), and no segment {@code .} or {@code ..}.</li>
 * </ul>
 * Everything else (whitespace, control characters, {@code @}, quotes...) is rejected with an
 * {@link IllegalArgumentException} whose message says what is wrong, for the user.
 *
 * <p>Immutable and thread-safe.
 */
public record BranchName(String value) implements Comparable<BranchName> {

    /** Longest name in UTF-8 bytes (NAMEDATALEN - 1). */
    public static final int MAX_BYTES = 63;

    public BranchName {
        validate(value);
    }

    /** Parses and validates user input. */
    public static BranchName of(String value) {
        return new BranchName(value);
    }

    private static void validate(String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("branch name must not be empty");
        }
        if (value.isBlank()) {
            throw new IllegalArgumentException("branch name must not be blank");
        }
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_BYTES) {
            throw new IllegalArgumentException("branch name is " + bytes + " bytes long, the limit is "
                    + MAX_BYTES + " bytes: " + value.substring(0, Math.min(value.length(), 20)) + "...");
        }
        for (int i = 0; i < value.length(); ) {
            int cp = value.codePointAt(i);
            if (!Character.isLetterOrDigit(cp) && cp != '-' && cp != '_' && cp != '.' && cp != '/') {
                throw new IllegalArgumentException("branch name " + quote(value) + " contains "
                        + describe(cp) + " at position " + i
                        + "; allowed: letters, digits, '-', '_', '.' and '/'");
            }
            i += Character.charCount(cp);
        }
        if (value.startsWith("/") || value.endsWith("/")) {
            throw new IllegalArgumentException("branch name " + quote(value) + " must not start or end with '/'");
        }
        if (value.contains("//")) {
            throw new IllegalArgumentException("branch name " + quote(value) + " must not contain '//'");
        }
        for (String segment : value.split("/")) {
            if (segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("branch name " + quote(value)
                        + " must not contain a '" + segment + "' segment");
            }
        }
    }

    private static String describe(int cp) {
        if (Character.isISOControl(cp)) {
            return String.format("a control character (U+%04X)", cp);
        }
        if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
            return String.format("whitespace (U+%04X)", cp);
        }
        return "'" + new String(Character.toChars(cp)) + "'";
    }

    /** Quotes user input for a message, escaping control characters so they cannot garble a terminal. */
    static String quote(String value) {
        StringBuilder out = new StringBuilder(value.length() + 2).append('\'');
        value.codePoints().forEach(cp -> {
            if (Character.isISOControl(cp)) {
                out.append(String.format("\\u%04X", cp));
            } else {
                out.appendCodePoint(cp);
            }
        });
        return out.append('\'').toString();
    }

    @Override
    public int compareTo(BranchName other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}

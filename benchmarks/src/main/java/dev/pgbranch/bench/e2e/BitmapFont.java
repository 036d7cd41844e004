package dev.pgbranch.bench.e2e;

import java.awt.Graphics2D;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A 5x7 pixel font drawn with filled rectangles, so that charts get their text on a headless
 * machine without fontconfig or any installed font (Java2D's own text needs both on Linux).
 * Upper case, digits and the punctuation chart labels use; lower case is drawn as upper case and
 * an unknown character as a hollow box.
 *
 * <p>Glyph format: 7 rows of 5 cells, top row first, {@code #} = ink, {@code .} = background.
 *
 * <p>Thread-safety: immutable after class initialization.
 */
final class BitmapFont {

    static final int GLYPH_WIDTH = 5;
    static final int GLYPH_HEIGHT = 7;
    /** One empty column between glyphs. */
    static final int ADVANCE = GLYPH_WIDTH + 1;

    private static final Map<Character, boolean[][]> GLYPHS = new HashMap<>();

    static {
        glyph('A', ".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#");
        glyph('B', "####.", "#...#", "#...#", "####.", "#...#", "#...#", "####.");
        glyph('C', ".###.", "#...#", "#....", "#....", "#....", "#...#", ".###.");
        glyph('D', "####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####.");
        glyph('E', "#####", "#....", "#....", "####.", "#....", "#....", "#####");
        glyph('F', "#####", "#....", "#....", "####.", "#....", "#....", "#....");
        glyph('G', ".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####");
        glyph('H', "#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#");
        glyph('I', ".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###.");
        glyph('J', "..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##..");
        glyph('K', "#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#");
        glyph('L', "#....", "#....", "#....", "#....", "#....", "#....", "#####");
        glyph('M', "#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#");
        glyph('N', "#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#");
        glyph('O', ".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###.");
        glyph('P', "####.", "#...#", "#...#", "####.", "#....", "#....", "#....");
        glyph('Q', ".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#");
        glyph('R', "####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#");
        glyph('S', ".####", "#....", "#....", ".###.", "....#", "....#", "####.");
        glyph('T', "#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#..");
        glyph('U', "#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###.");
        glyph('V', "#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#..");
        glyph('W', "#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#.");
        glyph('X', "#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#");
        glyph('Y', "#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#..");
        glyph('Z', "#####", "....#", "...#.", "..#..", ".#...", "#....", "#####");
        glyph('0', ".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###.");
        glyph('1', "..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###.");
        glyph('2', ".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####");
        glyph('3', "####.", "....#", "....#", ".###.", "....#", "....#", "####.");
        glyph('4', "...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#.");
        glyph('5', "#####", "#....", "####.", "....#", "....#", "#...#", ".###.");
        glyph('6', "..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###.");
        glyph('7', "#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#...");
        glyph('8', ".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###.");
        glyph('9', ".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##..");
        glyph(' ', ".....", ".....", ".....", ".....", ".....", ".....", ".....");
        glyph('.', ".....", ".....", ".....", ".....", ".....", ".##..", ".##..");
        glyph(',', ".....", ".....", ".....", ".....", ".##..", "..#..", ".#...");
        glyph('(', "...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#.");
        glyph(')', ".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#...");
        glyph('/', "....#", "....#", "...#.", "..#..", ".#...", "#....", "#....");
        glyph('-', ".....", ".....", ".....", "#####", ".....", ".....", ".....");
        glyph('+', ".....", "..#..", "..#..", "#####", "..#..", "..#..", ".....");
        glyph(':', ".....", ".##..", ".##..", ".....", ".##..", ".##..", ".....");
        glyph('%', "##..#", "##..#", "...#.", "..#..", ".#...", "#..##", "#..##");
        glyph('_', ".....", ".....", ".....", ".....", ".....", ".....", "#####");
        glyph('=', ".....", ".....", "#####", ".....", "#####", ".....", ".....");
        glyph('\u00d7', ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", ".....");
    }

    private BitmapFont() {
    }

    private static void glyph(char c, String... rows) {
        if (rows.length != GLYPH_HEIGHT) {
            throw new IllegalArgumentException("glyph " + c + " needs " + GLYPH_HEIGHT + " rows");
        }
        boolean[][] cells = new boolean[GLYPH_HEIGHT][GLYPH_WIDTH];
        for (int y = 0; y < GLYPH_HEIGHT; y++) {
            if (rows[y].length() != GLYPH_WIDTH) {
                throw new IllegalArgumentException("glyph " + c + " row " + y + " is not " + GLYPH_WIDTH + " wide");
            }
            for (int x = 0; x < GLYPH_WIDTH; x++) {
                cells[y][x] = rows[y].charAt(x) == '#';
            }
        }
        GLYPHS.put(c, cells);
    }

    /** Whether {@code c} has a glyph of its own (after upper-casing). */
    static boolean covers(char c) {
        return GLYPHS.containsKey(Character.toUpperCase(c));
    }

    /** Width in pixels of {@code text} drawn at {@code scale}. */
    static int width(String text, int scale) {
        return text.isEmpty() ? 0 : (text.length() * ADVANCE - 1) * scale;
    }

    static int height(int scale) {
        return GLYPH_HEIGHT * scale;
    }

    /** Draws {@code text} with its top-left corner at (x, y), each font cell {@code scale} pixels square, in g's colour. */
    static void draw(Graphics2D g, String text, int x, int y, int scale) {
        String upper = text.toUpperCase(Locale.ROOT);
        for (int i = 0; i < upper.length(); i++) {
            int left = x + i * ADVANCE * scale;
            boolean[][] cells = GLYPHS.get(upper.charAt(i));
            if (cells == null) {
                g.drawRect(left, y, GLYPH_WIDTH * scale - 1, GLYPH_HEIGHT * scale - 1);
                continue;
            }
            for (int row = 0; row < GLYPH_HEIGHT; row++) {
                for (int col = 0; col < GLYPH_WIDTH; col++) {
                    if (cells[row][col]) {
                        g.fillRect(left + col * scale, y + row * scale, scale, scale);
                    }
                }
            }
        }
    }
}

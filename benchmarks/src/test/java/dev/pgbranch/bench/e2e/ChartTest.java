package dev.pgbranch.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The creation-vs-size chart: a real PNG, of the asked size, with every series, axes and text drawn. */
class ChartTest {

    private static final List<Chart.Series> ROWS = List.of(
            new Chart.Series("pgbranch create, parent stopped", List.of(new Chart.Point(16, 4.1), new Chart.Point(160, 4.6),
                    new Chart.Point(470, 4.4), new Chart.Point(940, 4.4))),
            new Chart.Series("pgbranch create, parent running", List.of(new Chart.Point(16, 20), new Chart.Point(160, 24),
                    new Chart.Point(470, 25), new Chart.Point(940, 24.5))),
            new Chart.Series("CREATE DATABASE ... TEMPLATE", List.of(new Chart.Point(16, 60), new Chart.Point(160, 547),
                    new Chart.Point(470, 1600), new Chart.Point(940, 3314))));

    @Test
    void chartIsAPngOfTheAskedSizeWithEverySeriesDrawn(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("creation-vs-size.png");
        new Chart("Branch creation time vs database size", "database size, MB", "median time, ms (log scale)", ROWS)
                .write(png, 960, 600);

        byte[] bytes = Files.readAllBytes(png);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, Arrays.copyOf(bytes, 8));
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(960, image.getWidth());
        assertEquals(600, image.getHeight());
        for (int i = 0; i < ROWS.size(); i++) {
            assertTrue(count(image, Chart.COLOURS[i]) > 200, "series " + i + " is drawn in its colour");
        }
        // Text and axes are black: titles, tick labels, legend and the plot frame.
        assertTrue(count(image, Color.BLACK) > 3000, "axes and text are drawn");
        assertEquals(List.of(), Files.list(dir).filter(p -> p.toString().endsWith(".tmp")).toList());
    }

    @Test
    void higherValuesAreDrawnHigherOnTheLogAxis() {
        Chart.Axis axis = Chart.Axis.of(new double[] {4, 3314});
        assertEquals(0, axis.lowDecade());
        assertEquals(4, axis.highDecade());
        int bottom = 500;
        int top = 100;
        assertEquals(bottom, axis.pixelFromBottom(1, bottom, top));
        assertEquals(top, axis.pixelFromBottom(10_000, bottom, top));
        assertEquals(300, axis.pixelFromBottom(100, bottom, top));
        assertEquals(List.of("0.01", "0.1", "1", "10", "1000", "1E7"),
                List.of(Chart.decade(-2), Chart.decade(-1), Chart.decade(0), Chart.decade(1), Chart.decade(3),
                        Chart.decade(7)));
    }

    @Test
    void aSinglePointStillGetsTwoDecades() {
        Chart.Axis axis = Chart.Axis.of(new double[] {10});
        assertEquals(1, axis.lowDecade());
        assertEquals(2, axis.highDecade());
    }

    @Test
    void valuesALogAxisCannotShowAreRefused() {
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> new Chart("t", "x", "y",
                List.of(new Chart.Series("s", List.of(new Chart.Point(0, 1))))));
        assertTrue(zero.getMessage().contains("positive"), zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Chart("t", "x", "y",
                List.of(new Chart.Series("s", List.of(new Chart.Point(1, Double.NaN))))));
        assertThrows(IllegalArgumentException.class, () -> new Chart("t", "x", "y", List.of()));
        assertThrows(IllegalArgumentException.class, () -> new Chart("t", "x", "y",
                List.of(new Chart.Series("s", List.of()))));
    }

    @Test
    void everyCharacterOfTheChartsLabelsHasAGlyph() {
        String labels = "Branch creation time vs database size, MB (pgbench scales 1, 10, 30, 60) median time, ms "
                + "(log scale) pgbranch create, parent stopped running CREATE DATABASE ... TEMPLATE 0123456789 1E7 0.01";
        for (char c : labels.toCharArray()) {
            assertTrue(BitmapFont.covers(c), "no glyph for '" + c + "'");
        }
        assertEquals((3 * BitmapFont.ADVANCE - 1) * 2, BitmapFont.width("abc", 2));
        assertEquals(0, BitmapFont.width("", 2));
    }

    private static int count(BufferedImage image, Color colour) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xffffff) == (colour.getRGB() & 0xffffff)) {
                    n++;
                }
            }
        }
        return n;
    }
}

package dev.pgbranch.bench.e2e;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A line chart with logarithmic x and y axes written as a PNG with Java2D, headless and without
 * system fonts (text is drawn by {@link BitmapFont}): decade grid lines with labelled ticks,
 * axis titles with their units, a title, and a legend naming each series with its colour and
 * marker. Used for branch creation time vs database size.
 *
 * <p>Thread-safety: immutable; {@link #write} may be called from any thread.
 */
final class Chart {

    /** One line of the chart: its legend text and points, x and y both > 0. */
    record Series(String name, List<Point> points) {

        Series {
            points = List.copyOf(points);
        }
    }

    record Point(double x, double y) {
    }

    static final Color[] COLOURS = {new Color(0, 90, 200), new Color(225, 110, 0), new Color(0, 150, 70),
            new Color(170, 30, 160)};
    private static final Color GRID = new Color(220, 220, 220);
    private static final int SCALE = 2;
    private static final int LEFT = 120;
    private static final int RIGHT = 40;
    private static final int TOP = 60;
    private static final int BOTTOM = 80;

    private final String title;
    private final String xTitle;
    private final String yTitle;
    private final List<Series> series;

    Chart(String title, String xTitle, String yTitle, List<Series> series) {
        this.title = title;
        this.xTitle = xTitle;
        this.yTitle = yTitle;
        this.series = List.copyOf(series);
        if (this.series.isEmpty() || this.series.size() > COLOURS.length) {
            throw new IllegalArgumentException("a chart needs 1 to " + COLOURS.length + " series, not " + series.size());
        }
        for (Series s : this.series) {
            for (Point p : s.points()) {
                if (!(p.x() > 0) || !(p.y() > 0) || Double.isInfinite(p.x()) || Double.isInfinite(p.y())) {
                    throw new IllegalArgumentException("log axes need positive finite values: " + s.name() + " " + p);
                }
            }
        }
        if (this.series.stream().allMatch(s -> s.points().isEmpty())) {
            throw new IllegalArgumentException("a chart needs at least one point");
        }
    }

    /** Draws the chart into a {@code width} x {@code height} PNG at {@code file}. */
    void write(Path file, int width, int height) throws IOException {
        if (width < LEFT + RIGHT + 200 || height < TOP + BOTTOM + 150) {
            throw new IllegalArgumentException("chart too small: " + width + "x" + height);
        }
        BufferedImage image = render(width, height);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        if (!ImageIO.write(image, "png", tmp.toFile())) {
            throw new IOException("no PNG writer in this JDK");
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    BufferedImage render(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            int plotLeft = LEFT;
            int plotRight = width - RIGHT;
            int plotTop = TOP;
            int plotBottom = height - BOTTOM;
            Axis x = Axis.of(series.stream().flatMap(s -> s.points().stream()).mapToDouble(Point::x).toArray());
            Axis y = Axis.of(series.stream().flatMap(s -> s.points().stream()).mapToDouble(Point::y).toArray());

            g.setColor(Color.BLACK);
            BitmapFont.draw(g, title, (width - BitmapFont.width(title, SCALE)) / 2, 18, SCALE);
            // Decade grid lines and tick labels.
            for (int e = x.lowDecade(); e <= x.highDecade(); e++) {
                int px = x.pixel(Math.pow(10, e), plotLeft, plotRight);
                g.setColor(GRID);
                g.drawLine(px, plotTop, px, plotBottom);
                g.setColor(Color.BLACK);
                g.drawLine(px, plotBottom, px, plotBottom + 6);
                String label = decade(e);
                BitmapFont.draw(g, label, px - BitmapFont.width(label, SCALE) / 2, plotBottom + 12, SCALE);
            }
            for (int e = y.lowDecade(); e <= y.highDecade(); e++) {
                int py = y.pixelFromBottom(Math.pow(10, e), plotBottom, plotTop);
                g.setColor(GRID);
                g.drawLine(plotLeft, py, plotRight, py);
                g.setColor(Color.BLACK);
                g.drawLine(plotLeft - 6, py, plotLeft, py);
                String label = decade(e);
                BitmapFont.draw(g, label, plotLeft - 12 - BitmapFont.width(label, SCALE),
                        py - BitmapFont.height(SCALE) / 2, SCALE);
            }
            g.setColor(Color.BLACK);
            g.drawRect(plotLeft, plotTop, plotRight - plotLeft, plotBottom - plotTop);
            BitmapFont.draw(g, xTitle, (plotLeft + plotRight - BitmapFont.width(xTitle, SCALE)) / 2,
                    plotBottom + 40, SCALE);
            AffineTransform saved = g.getTransform();
            g.rotate(-Math.PI / 2);
            // Rotated a quarter turn counter-clockwise: (x, y) draws at (y, -x).
            BitmapFont.draw(g, yTitle, -(plotTop + plotBottom + BitmapFont.width(yTitle, SCALE)) / 2, 16, SCALE);
            g.setTransform(saved);

            g.setStroke(new BasicStroke(2.5f));
            for (int i = 0; i < series.size(); i++) {
                Series s = series.get(i);
                g.setColor(COLOURS[i]);
                int[] xs = new int[s.points().size()];
                int[] ys = new int[s.points().size()];
                for (int j = 0; j < xs.length; j++) {
                    xs[j] = x.pixel(s.points().get(j).x(), plotLeft, plotRight);
                    ys[j] = y.pixelFromBottom(s.points().get(j).y(), plotBottom, plotTop);
                }
                g.drawPolyline(xs, ys, xs.length);
                for (int j = 0; j < xs.length; j++) {
                    marker(g, i, xs[j], ys[j]);
                }
            }
            legend(g, plotLeft + 14, plotTop + 14);
        } finally {
            g.dispose();
        }
        return image;
    }

    private void legend(Graphics2D g, int left, int top) {
        int lineHeight = BitmapFont.height(SCALE) + 10;
        int textWidth = series.stream().mapToInt(s -> BitmapFont.width(s.name(), SCALE)).max().orElse(0);
        g.setColor(Color.WHITE);
        g.fillRect(left, top, textWidth + 60, series.size() * lineHeight + 10);
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1f));
        g.drawRect(left, top, textWidth + 60, series.size() * lineHeight + 10);
        for (int i = 0; i < series.size(); i++) {
            int y = top + 10 + i * lineHeight + BitmapFont.height(SCALE) / 2;
            g.setColor(COLOURS[i]);
            g.setStroke(new BasicStroke(2.5f));
            g.drawLine(left + 8, y, left + 38, y);
            marker(g, i, left + 23, y);
            g.setColor(Color.BLACK);
            BitmapFont.draw(g, series.get(i).name(), left + 48, y - BitmapFont.height(SCALE) / 2, SCALE);
        }
    }

    /** A filled circle, square, triangle or diamond, by series. */
    private static void marker(Graphics2D g, int series, int x, int y) {
        int r = 5;
        switch (series % 4) {
            case 0 -> g.fillOval(x - r, y - r, 2 * r, 2 * r);
            case 1 -> g.fillRect(x - r, y - r, 2 * r, 2 * r);
            case 2 -> g.fillPolygon(new int[] {x - r - 1, x + r + 1, x}, new int[] {y + r, y + r, y - r - 1}, 3);
            default -> g.fillPolygon(new int[] {x - r - 1, x, x + r + 1, x}, new int[] {y, y - r - 1, y, y + r + 1}, 4);
        }
    }

    /** 10^e as a plain number: 0.01, 0.1, 1, 10, 1000, 100000; 1E7 and beyond in exponent form. */
    static String decade(int e) {
        if (e < -3 || e > 6) {
            return "1E" + e;
        }
        if (e < 0) {
            return String.format(Locale.ROOT, "%." + (-e) + "f", Math.pow(10, e));
        }
        return Long.toString(Math.round(Math.pow(10, e)));
    }

    /** A log10 axis spanning whole decades around the data. */
    record Axis(int lowDecade, int highDecade) {

        static Axis of(double[] values) {
            double min = Double.MAX_VALUE;
            double max = 0;
            for (double v : values) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            int low = (int) Math.floor(Math.log10(min) + 1e-9);
            int high = (int) Math.ceil(Math.log10(max) - 1e-9);
            return new Axis(low, Math.max(high, low + 1));
        }

        int pixel(double v, int from, int to) {
            double f = (Math.log10(v) - lowDecade) / (highDecade - lowDecade);
            return (int) Math.round(from + f * (to - from));
        }

        int pixelFromBottom(double v, int bottom, int top) {
            return pixel(v, bottom, top);
        }
    }
}

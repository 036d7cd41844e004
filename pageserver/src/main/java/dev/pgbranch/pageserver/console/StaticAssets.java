package dev.pgbranch.pageserver.console;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The console's files, read from the classpath: the page and its ES modules and styles
 * ({@code console/} in this jar) and two vendored libraries from their WebJars (CodeMirror 5,
 * jsdiff; versions as in the pom). Only names of a known shape are served, so no path can
 * leave these folders.
 *
 * <pre>
 * /                      console/index.html
 * /console/NAME.EXT      console/NAME.EXT           (js, css, svg)
 * /vendor/codemirror/P   webjars/codemirror/5.65.18/P
 * /vendor/diff/P         webjars/diff/5.1.0/P
 * </pre>
 *
 * <p>Stateless; thread-safe.
 */
final class StaticAssets {

    /** A file to send. */
    record Asset(byte[] body, String contentType) {
    }

    private static final String WEBJARS = "META-INF/resources/webjars/";
    private static final Map<String, String> VENDORED = Map.of(
            "codemirror", WEBJARS + "codemirror/5.65.18/",
            "diff", WEBJARS + "diff/5.1.0/");
    private static final Pattern OWN = Pattern.compile("/console/[a-z0-9-]+\\.(js|css|svg)");
    private static final Pattern VENDOR = Pattern.compile("/vendor/([a-z]+)/((?:[a-z0-9_-]+/)*[a-z0-9_.-]+\\.(?:js|css))");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml");

    private StaticAssets() {
    }

    static Optional<Asset> find(String path) throws IOException {
        String resource;
        if (path.equals("/") || path.equals("/index.html")) {
            resource = "console/index.html";
        } else if (OWN.matcher(path).matches()) {
            resource = path.substring(1);
        } else {
            var vendor = VENDOR.matcher(path);
            if (!vendor.matches() || !VENDORED.containsKey(vendor.group(1)) || vendor.group(2).contains("..")) {
                return Optional.empty();
            }
            resource = VENDORED.get(vendor.group(1)) + vendor.group(2);
        }
        try (InputStream in = StaticAssets.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                return Optional.empty();
            }
            String extension = resource.substring(resource.lastIndexOf('.') + 1);
            return Optional.of(new Asset(in.readAllBytes(), TYPES.get(extension)));
        }
    }
}

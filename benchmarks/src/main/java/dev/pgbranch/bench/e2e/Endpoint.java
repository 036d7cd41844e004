package dev.pgbranch.bench.e2e;

import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Where a database answers: parsed from a libpq URI
 * ({@code postgresql://user:password@host:port/database?param=value}) as handed out by the
 * pgbranch API, or built for the plain cluster. Knows how to open a pgjdbc connection and how to
 * give the same target to libpq tools (a URI without the password, plus {@code PGPASSWORD}), so
 * the password never appears on a command line or in a message.
 *
 * <p>Both sides are reached with {@code sslmode=disable} unless the URI says otherwise: the plain
 * cluster has no TLS, and an A/B comparison must not charge one side with encryption.
 *
 * <p>Immutable and thread-safe.
 *
 * @param parameters URI query parameters (e.g. {@code options}), passed through to both clients
 */
record Endpoint(String host, int port, String user, String password, String database, Map<String, String> parameters) {

    Endpoint {
        parameters = Map.copyOf(parameters);
    }

    static Endpoint parse(String uri) {
        URI parsed = URI.create(uri);
        if (!"postgresql".equals(parsed.getScheme()) && !"postgres".equals(parsed.getScheme())) {
            throw new BenchException("not a postgresql:// URI: " + parsed.getScheme() + "://" + parsed.getHost());
        }
        String user = "postgres";
        String password = "";
        if (parsed.getRawUserInfo() != null) {
            String[] info = parsed.getRawUserInfo().split(":", 2);
            user = decode(info[0]);
            password = info.length > 1 ? decode(info[1]) : "";
        }
        String path = parsed.getRawPath() == null ? "" : parsed.getRawPath();
        String database = path.length() > 1 ? decode(path.substring(1)) : user;
        Map<String, String> parameters = new LinkedHashMap<>();
        if (parsed.getRawQuery() != null) {
            for (String pair : parsed.getRawQuery().split("&")) {
                String[] kv = pair.split("=", 2);
                parameters.put(decode(kv[0]), kv.length > 1 ? decode(kv[1]) : "");
            }
        }
        int port = parsed.getPort() < 0 ? 5432 : parsed.getPort();
        return new Endpoint(parsed.getHost(), port, user, password, database, parameters);
    }

    Endpoint withDatabase(String other) {
        return new Endpoint(host, port, user, password, other, parameters);
    }

    /** A libpq URI without the password (give {@link #password()} as {@code PGPASSWORD}). */
    String libpqUri() {
        StringBuilder uri = new StringBuilder("postgresql://").append(encode(user)).append('@').append(host).append(':')
                .append(port).append('/').append(encode(database));
        Map<String, String> all = new LinkedHashMap<>(parameters);
        all.putIfAbsent("sslmode", "disable");
        char separator = '?';
        for (Map.Entry<String, String> e : all.entrySet()) {
            uri.append(separator).append(encode(e.getKey())).append('=').append(encode(e.getValue()));
            separator = '&';
        }
        return uri.toString();
    }

    /** The environment for libpq tools given {@link #libpqUri()}. */
    Map<String, String> libpqEnvironment() {
        return Map.of("PGPASSWORD", password, "PGCONNECT_TIMEOUT", "120");
    }

    Connection connect() throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", password);
        properties.setProperty("sslmode", parameters.getOrDefault("sslmode", "disable"));
        properties.setProperty("connectTimeout", "120");
        parameters.forEach((k, v) -> {
            if (!k.equals("sslmode")) {
                properties.setProperty(k, v);
            }
        });
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + encode(database), properties);
    }

    @Override
    public String toString() {
        return libpqUri(); // never the password
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}

package dev.pgbranch.pageserver.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The CLI's HTTP exchange against the JDK's HTTP server, the one the API runs on. */
class LoopbackHttpTest {

    private HttpServer server;
    private String base;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/fixed", e -> reply(e, 200, "{\"a\":1}".getBytes(StandardCharsets.UTF_8), false));
        server.createContext("/chunked", e -> reply(e, 200, "{\"many\":\"x\"}".repeat(5000).getBytes(StandardCharsets.UTF_8), true));
        server.createContext("/echo", e -> {
            String got = e.getRequestMethod() + " " + e.getRequestURI() + " " + e.getRequestHeaders().getFirst("Authorization")
                    + " " + new String(e.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            reply(e, 409, got.getBytes(StandardCharsets.UTF_8), false);
        });
        server.createContext("/empty", e -> {
            e.sendResponseHeaders(204, -1);
            e.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void fixedLengthChunkedAndEmptyResponsesAreReadWhole() throws IOException {
        assertEquals(new LoopbackHttp.Response(200, "{\"a\":1}"), exchange("GET", "/fixed", null));
        assertEquals("{\"many\":\"x\"}".repeat(5000), exchange("GET", "/chunked", null).body());
        assertEquals(new LoopbackHttp.Response(204, ""), exchange("DELETE", "/empty", null));
    }

    @Test
    void methodPathQueryTokenAndBodyReachTheServer() throws IOException {
        LoopbackHttp.Response r = exchange("PATCH", "/echo/dev%2Falex?x=1", "{\"protected\":true}".getBytes(StandardCharsets.UTF_8));
        assertEquals(409, r.status());
        assertEquals("PATCH /echo/dev%2Falex?x=1 Bearer t0ken {\"protected\":true}", r.body());
    }

    @Test
    void nothingListeningIsAConnectException() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        assertThrows(ConnectException.class, () -> LoopbackHttp.exchange(URI.create("http://127.0.0.1:" + port + "/x"),
                "GET", "t", null, 1000, 1000));
        assertThrows(IOException.class, () -> LoopbackHttp.exchange(URI.create("https://127.0.0.1:1/x"), "GET", "t", null,
                1000, 1000));
    }

    private LoopbackHttp.Response exchange(String method, String path, byte[] body) throws IOException {
        return LoopbackHttp.exchange(URI.create(base + path), method, "t0ken", body, 5000, 5000);
    }

    private static void reply(HttpExchange e, int status, byte[] body, boolean chunked) throws IOException {
        e.getRequestBody().readAllBytes();
        e.sendResponseHeaders(status, chunked ? 0 : body.length);
        try (OutputStream out = e.getResponseBody()) {
            if (chunked) {
                for (int i = 0; i < body.length; i += 7000) {
                    out.write(body, i, Math.min(7000, body.length - i));
                    out.flush();
                }
            } else {
                out.write(body);
            }
        }
    }
}

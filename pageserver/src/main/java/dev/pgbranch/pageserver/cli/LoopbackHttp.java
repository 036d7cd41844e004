package dev.pgbranch.pageserver.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One HTTP/1.1 exchange per connection over a plain socket, for the CLI's calls to the management
 * API (plain HTTP on 127.0.0.1). It exists for start-up time: the JDK's {@code HttpClient} loads
 * about 450 classes (its selector machinery and the TLS stack, even for {@code http:}) before the
 * first byte, which a one-shot CLI pays on every command.
 *
 * <p>Requests carry {@code Connection: close} and a {@code Content-Length}; responses are read
 * with a {@code Content-Length}, chunked, or until the server closes. Only {@code http:} URLs.
 *
 * <p>Stateless; each call opens and closes its own connection.
 */
final class LoopbackHttp {

    /** Status and body of one response. */
    record Response(int status, String body) {
    }

    private static final int MAX_HEADER_BYTES = 64 * 1024;

    private LoopbackHttp() {
    }

    /**
     * Sends one request and reads the whole response.
     *
     * @param body the request body (JSON), or null for none
     * @throws java.net.ConnectException if nothing listens there
     * @throws IOException on any other transport or protocol failure
     */
    static Response exchange(URI uri, String method, String token, byte[] body, int connectTimeoutMillis,
            int readTimeoutMillis) throws IOException {
        if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IOException("only http://host:port URLs are supported, not " + uri);
        }
        int port = uri.getPort() < 0 ? 80 : uri.getPort();
        String target = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            target += "?" + uri.getRawQuery();
        }
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(uri.getHost(), port), connectTimeoutMillis);
            socket.setSoTimeout(readTimeoutMillis);
            StringBuilder head = new StringBuilder(256)
                    .append(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(uri.getHost()).append(':').append(port).append("\r\n")
                    .append("Authorization: Bearer ").append(token).append("\r\n")
                    .append("Accept: application/json\r\n")
                    .append("Connection: close\r\n");
            byte[] payload = body == null ? new byte[0] : body;
            if (body != null) {
                head.append("Content-Type: application/json\r\n");
            }
            head.append("Content-Length: ").append(payload.length).append("\r\n\r\n");
            OutputStream out = socket.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(payload);
            out.flush();
            return read(new BufferedInputStream(socket.getInputStream()), method);
        }
    }

    private static Response read(InputStream in, String method) throws IOException {
        String statusLine = line(in);
        // "HTTP/1.1 200 OK"
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP/1.x response: " + statusLine);
        }
        int status;
        try {
            status = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IOException("bad HTTP status line: " + statusLine);
        }
        long length = -1;
        boolean chunked = false;
        int headerBytes = 0;
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            headerBytes += header.length();
            if (headerBytes > MAX_HEADER_BYTES) {
                throw new IOException("HTTP response headers over " + MAX_HEADER_BYTES + " bytes");
            }
            int colon = header.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = header.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = header.substring(colon + 1).strip();
            if (name.equals("content-length")) {
                length = Long.parseLong(value);
            } else if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) {
                chunked = true;
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (method.equals("HEAD") || status == 204 || status == 304) {
            return new Response(status, "");
        }
        if (chunked) {
            for (long size = chunkSize(line(in)); size > 0; size = chunkSize(line(in))) {
                copy(in, body, size);
                line(in); // the CRLF after each chunk
            }
            String trailer;
            do {
                trailer = line(in); // trailers, up to the empty line, are ignored
            } while (!trailer.isEmpty());
        } else if (length >= 0) {
            copy(in, body, length);
        } else {
            in.transferTo(body);
        }
        return new Response(status, body.toString(StandardCharsets.UTF_8));
    }

    private static long chunkSize(String line) throws IOException {
        int semicolon = line.indexOf(';');
        try {
            return Long.parseLong((semicolon < 0 ? line : line.substring(0, semicolon)).strip(), 16);
        } catch (NumberFormatException e) {
            throw new IOException("bad HTTP chunk size: " + line);
        }
    }

    private static void copy(InputStream in, ByteArrayOutputStream out, long length) throws IOException {
        byte[] buffer = new byte[8192];
        long left = length;
        while (left > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                throw new EOFException("the server closed the connection " + left + " bytes before the body's end");
            }
            out.write(buffer, 0, n);
            left -= n;
        }
    }

    /** One CRLF-terminated line (ISO-8859-1), without its terminator. */
    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("the server closed the connection mid-response");
            }
            if (line.length() > MAX_HEADER_BYTES) {
                throw new IOException("HTTP response line over " + MAX_HEADER_BYTES + " bytes");
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }
}

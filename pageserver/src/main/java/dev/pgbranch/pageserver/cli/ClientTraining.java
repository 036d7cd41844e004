package dev.pgbranch.pageserver.cli;

import dev.pgbranch.pageserver.api.ApiToken;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The training run of the client's JDK ahead-of-time cache ({@code -XX:AOTCacheOutput}, made by
 * the {@code ./pgbranch} launcher once per build): runs the everyday commands in this JVM against
 * a canned HTTP responder on a loopback port, so the cache holds the classes and linkage of the
 * command line, the JSON tree and the HTTP exchange. Nothing here is used by the CLI itself; the
 * answers only need to be shaped like the API's for the commands to run to the end.
 */
public final class ClientTraining {

    private static final String BRANCH = "{\"name\":\"development\",\"parent\":\"production\",\"timeline\":\"0123\","
            + "\"createdAt\":\"2026-01-01T00:00:00.000Z\",\"parentLsn\":\"0/1\",\"headLsn\":\"0/2\",\"protected\":false,"
            + "\"port\":1,\"computeState\":\"suspended\",\"exclusiveBytes\":1,\"sharedBytes\":2,\"pendingBytes\":0}";

    private ClientTraining() {
    }

    public static void main(String[] args) throws IOException {
        Path directory = Files.createTempDirectory("pgbranch-training");
        try (ServerSocket listener = new ServerSocket(0, 16, InetAddress.getLoopbackAddress())) {
            Files.writeString(directory.resolve(ApiToken.FILE_NAME), "training-token-not-a-secret");
            Thread responder = Thread.ofPlatform().daemon().start(() -> answer(listener));
            String api = "http://127.0.0.1:" + listener.getLocalPort();
            String dir = directory.toString();
            run("--help");
            run("branch", "--help");
            run("--api", api, "--data-dir", dir, "branch", "list");
            run("branch", "list", "--api", api, "--data-dir", dir, "-o", "json");
            run("branch", "show", "development", "--api", api, "--data-dir", dir);
            run("branch", "create", "dev/x", "--parent", "development", "--api", api, "--data-dir", dir);
            run("connect", "development", "--api", api, "--data-dir", dir);
            run("env", "development", "--file", directory.resolve(".env").toString(), "--api", api, "--data-dir", dir);
            responder.interrupt();
        } finally {
            try (Stream<Path> files = Files.walk(directory)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void run(String... args) {
        Main.run(args, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
    }

    private static void answer(ServerSocket listener) {
        while (!listener.isClosed()) {
            try (Socket socket = listener.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
                String request = in.readLine();
                int length = 0;
                for (String header = in.readLine(); header != null && !header.isEmpty(); header = in.readLine()) {
                    if (header.toLowerCase().startsWith("content-length:")) {
                        length = Integer.parseInt(header.substring(15).strip());
                    }
                }
                in.skip(length);
                String body = request.contains("/connection")
                        ? "{\"branch\":\"development\",\"uri\":\"postgresql://u:p@127.0.0.1:1/postgres\","
                                + "\"routingUri\":\"postgresql://u:p@127.0.0.1:2/postgres?options=branch%3Ddevelopment\"}"
                        : request.startsWith("GET") && request.contains("/branches ") ? "{\"branches\":[" + BRANCH + "]}"
                        : BRANCH;
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                OutputStream out = socket.getOutputStream();
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length
                        + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(bytes);
                out.flush();
            } catch (IOException e) {
                return; // the listener closed: training is over
            }
        }
    }
}

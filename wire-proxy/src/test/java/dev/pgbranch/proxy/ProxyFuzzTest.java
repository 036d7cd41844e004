package dev.pgbranch.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Throws thousands of random, mutated and truncated startup packets at the routing port: every
 * connection must end with an answer the protocol allows (an ErrorResponse, an encryption answer, an
 * authentication request from a real compute) or a plain close, and the proxy must keep serving.
 */
@Tag("integration")
class ProxyFuzzTest {

    private static final int CONNECTIONS = 3000;
    private static final long SEED = Long.getLong("pgbranch.fuzz.seed", System.nanoTime());

    @Test
    void thousandsOfRandomAndTruncatedStartupPacketsGetAnErrorOrACloseAndTheProxyStaysUp() throws Exception {
        try (PostgresBranches pg = new PostgresBranches()) {
            pg.create("main");
            try (PgProxy proxy = new PgProxy(ProxyConfig.defaults(0).withStartupTimeout(java.time.Duration.ofSeconds(5)), pg).start()) {
                int port = proxy.routingPort();
                AtomicInteger errors = new AtomicInteger();
                AtomicInteger closes = new AtomicInteger();
                AtomicInteger other = new AtomicInteger();
                ExecutorService pool = Executors.newFixedThreadPool(8);
                List<Future<?>> futures = new ArrayList<>();
                long t0 = System.nanoTime();
                for (int i = 0; i < CONNECTIONS; i++) {
                    long seed = SEED + i;
                    futures.add(pool.submit(() -> {
                        byte[] packet = packet(new Random(seed));
                        byte[] answer = exchange(port, packet, seed);
                        if (answer.length == 0) {
                            closes.incrementAndGet();
                        } else {
                            char first = (char) answer[0];
                            assertTrue("ENSRv".indexOf(first) >= 0,
                                    "seed " + seed + ": unexpected first answer byte " + (int) first);
                            if (first == 'E') {
                                errors.incrementAndGet();
                            } else {
                                other.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get(5, TimeUnit.MINUTES);
                }
                pool.shutdownNow();
                System.out.printf("fuzz (seed %d): %d connections in %d ms: %d errors, %d closes, %d other answers%n",
                        SEED, CONNECTIONS, (System.nanoTime() - t0) / 1_000_000, errors.get(), closes.get(), other.get());
                assertEquals(CONNECTIONS, errors.get() + closes.get() + other.get());
                assertTrue(errors.get() > CONNECTIONS / 4, "most malformed packets are answered with an error");
                try (Connection c = PgProxyIntegrationTest.jdbc(port, "postgres", "options", "branch=main")) {
                    assertEquals(pg.compute("main").port, PgProxyIntegrationTest.serverPort(c));
                }
            }
        }
    }

    /** Sends {@code packet}, half-closes, and returns everything the proxy sent before closing. */
    private static byte[] exchange(int port, byte[] packet, long seed) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(20_000);
            try {
                s.getOutputStream().write(packet);
                s.shutdownOutput();
            } catch (SocketException e) {
                // The proxy may close first on an early bad length; what it said is still readable.
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    got.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("seed " + seed + ": proxy neither answered nor closed", e);
            } catch (SocketException e) {
                // reset after the answer: fine
            }
            return got.toByteArray();
        }
    }

    private static byte[] packet(Random r) {
        byte[] valid = RawPgClient.startupPacket(3, r.nextInt(4), RawPgClient.params(
                "user", "postgres", "database", "postgres", "options", r.nextBoolean() ? "branch=main" : "branch=x" + r.nextInt(99)));
        switch (r.nextInt(7)) {
            case 0 -> { // random bytes
                byte[] b = new byte[r.nextInt(300)];
                r.nextBytes(b);
                return b;
            }
            case 1 -> { // valid packet truncated
                byte[] b = new byte[r.nextInt(valid.length)];
                System.arraycopy(valid, 0, b, 0, b.length);
                return b;
            }
            case 2 -> { // random length field
                ByteBuffer b = ByteBuffer.wrap(valid.clone());
                b.putInt(0, r.nextInt());
                return b.array();
            }
            case 3 -> { // bytes flipped inside a valid packet
                byte[] b = valid.clone();
                for (int i = 0; i < 1 + r.nextInt(4); i++) {
                    b[r.nextInt(b.length)] = (byte) r.nextInt();
                }
                return b;
            }
            case 4 -> { // random protocol code
                ByteBuffer b = ByteBuffer.wrap(valid.clone());
                b.putInt(4, r.nextBoolean() ? r.nextInt() : (1234 << 16) | r.nextInt(5676, 5682));
                return b.array();
            }
            case 5 -> { // SSLRequest then garbage instead of a ClientHello
                byte[] garbage = new byte[r.nextInt(100)];
                r.nextBytes(garbage);
                return ByteBuffer.allocate(8 + garbage.length).putInt(8).putInt(PgMessage.SSL_REQUEST_CODE).put(garbage).array();
            }
            default -> { // a valid packet followed by junk, or nothing but a length
                if (r.nextBoolean()) {
                    return ByteBuffer.allocate(4).putInt(r.nextInt(20_000)).array();
                }
                byte[] junk = new byte[r.nextInt(50)];
                r.nextBytes(junk);
                return ByteBuffer.allocate(valid.length + junk.length).put(valid).put(junk).array();
            }
        }
    }
}

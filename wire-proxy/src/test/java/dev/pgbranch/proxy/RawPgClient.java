package dev.pgbranch.proxy;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A minimal protocol 3.0 client over a plain socket, for tests that need control a driver does not
 * give: exact startup packets, SCRAM-SHA-256 login, reading slowly, half-closing. Not thread-safe.
 */
final class RawPgClient implements AutoCloseable {

    /** One backend message. */
    record Message(char type, byte[] body) {
        int int32(int offset) {
            return (body[offset] & 0xFF) << 24 | (body[offset + 1] & 0xFF) << 16 | (body[offset + 2] & 0xFF) << 8
                    | (body[offset + 3] & 0xFF);
        }
    }

    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;
    int backendPid;
    int backendSecret;

    RawPgClient(int port, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(30_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    static byte[] startupPacket(int major, int minor, Map<String, String> params) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        params.forEach((k, v) -> {
            body.writeBytes(k.getBytes(StandardCharsets.UTF_8));
            body.write(0);
            body.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            body.write(0);
        });
        body.write(0);
        byte[] b = body.toByteArray();
        java.nio.ByteBuffer packet = java.nio.ByteBuffer.allocate(8 + b.length);
        packet.putInt(8 + b.length).putInt(major << 16 | minor).put(b);
        return packet.array();
    }

    static Map<String, String> params(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    Message read() throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("connection closed");
        }
        int length = in.readInt();
        byte[] body = new byte[length - 4];
        in.readFully(body);
        return new Message((char) type, body);
    }

    /** Sends a startup packet and completes SCRAM-SHA-256; returns at the first ReadyForQuery. */
    void login(Map<String, String> params, String password) throws IOException {
        login(0, params, password);
    }

    /** As {@link #login(Map, String)}, asking for protocol 3.{@code minor}. */
    void login(int minor, Map<String, String> params, String password) throws IOException {
        send(startupPacket(3, minor, params));
        String clientNonce = Base64.getEncoder().encodeToString(new SecureRandom().generateSeed(18));
        String clientFirstBare = "n=,r=" + clientNonce;
        String clientFinalNoProof = null;
        byte[] serverSignatureExpected = null;
        try {
            while (true) {
                Message m = read();
                switch (m.type()) {
                    case 'R' -> {
                        int code = m.int32(0);
                        if (code == 10) {
                            byte[] data = ("n,," + clientFirstBare).getBytes(StandardCharsets.US_ASCII);
                            ByteArrayOutputStream p = new ByteArrayOutputStream();
                            p.writeBytes("SCRAM-SHA-256".getBytes(StandardCharsets.US_ASCII));
                            p.write(0);
                            DataOutputStream d = new DataOutputStream(p);
                            d.writeInt(data.length);
                            d.write(data);
                            typed('p', p.toByteArray());
                        } else if (code == 11) {
                            String serverFirst = new String(m.body(), 4, m.body().length - 4, StandardCharsets.US_ASCII);
                            Map<String, String> attrs = new LinkedHashMap<>();
                            for (String part : serverFirst.split(",")) {
                                attrs.put(part.substring(0, 1), part.substring(2));
                            }
                            byte[] salt = Base64.getDecoder().decode(attrs.get("s"));
                            int iterations = Integer.parseInt(attrs.get("i"));
                            clientFinalNoProof = "c=biws,r=" + attrs.get("r");
                            byte[] salted = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                                    .generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256)).getEncoded();
                            byte[] clientKey = hmac(salted, "Client Key");
                            byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
                            String authMessage = clientFirstBare + "," + serverFirst + "," + clientFinalNoProof;
                            byte[] signature = hmac(storedKey, authMessage);
                            byte[] proof = new byte[clientKey.length];
                            for (int i = 0; i < proof.length; i++) {
                                proof[i] = (byte) (clientKey[i] ^ signature[i]);
                            }
                            serverSignatureExpected = hmac(hmac(salted, "Server Key"), authMessage);
                            typed('p', (clientFinalNoProof + ",p=" + Base64.getEncoder().encodeToString(proof))
                                    .getBytes(StandardCharsets.US_ASCII));
                        } else if (code == 12) {
                            String serverFinal = new String(m.body(), 4, m.body().length - 4, StandardCharsets.US_ASCII);
                            if (!serverFinal.equals("v=" + Base64.getEncoder().encodeToString(serverSignatureExpected))) {
                                throw new IOException("server signature mismatch");
                            }
                        } else if (code != 0) {
                            throw new IOException("unsupported authentication request " + code);
                        }
                    }
                    case 'K' -> {
                        backendPid = m.int32(0);
                        backendSecret = m.int32(4);
                    }
                    case 'E' -> throw new IOException("login failed: " + errorText(m));
                    case 'Z' -> {
                        return;
                    }
                    default -> {
                        // ParameterStatus, NoticeResponse, NegotiateProtocolVersion
                    }
                }
            }
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    void query(String sql) throws IOException {
        byte[] q = sql.getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[q.length + 1];
        System.arraycopy(q, 0, body, 0, q.length);
        typed('Q', body);
    }

    void typed(char type, byte[] body) throws IOException {
        out.writeByte(type);
        out.writeInt(body.length + 4);
        out.write(body);
        out.flush();
    }

    /** Fields of an ErrorResponse as "CODE: message". */
    static String errorText(Message m) {
        String code = "";
        String message = "";
        int i = 0;
        byte[] b = m.body();
        while (i < b.length && b[i] != 0) {
            char field = (char) b[i++];
            int end = i;
            while (b[end] != 0) {
                end++;
            }
            String value = new String(b, i, end - i, StandardCharsets.UTF_8);
            if (field == 'C') {
                code = value;
            } else if (field == 'M') {
                message = value;
            }
            i = end + 1;
        }
        return code + ": " + message;
    }

    private static byte[] hmac(byte[] key, String data) throws GeneralSecurityException {
        return hmac(key, data.getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] hmac(byte[] key, byte[] data) throws GeneralSecurityException {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

package dev.pgbranch.proxy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The PostgreSQL protocol messages the proxy itself reads or writes. Everything else (queries,
 * authentication exchanges, results) is spliced as opaque bytes and never becomes a message object.
 *
 * <p>Untyped messages, sent by a client before its session exists (decoded by {@link StartupDecoder}):
 * <pre>
 *   +----------------+----------------+---------------------------------------------+
 *   | int32 length   | int32 code     | body (length - 8 bytes)                     |
 *   | (incl. itself) |                |                                             |
 *   +----------------+----------------+---------------------------------------------+
 *   code 80877103 (1234.5679)  SSLRequest       body empty
 *   code 80877104 (1234.5680)  GSSENCRequest    body empty
 *   code 80877102 (1234.5678)  CancelRequest    int32 pid, secret key bytes (4 in protocol 3.0)
 *   code major &lt;&lt; 16 | minor  StartupMessage   (cstring name, cstring value)*, 0x00
 * </pre>
 *
 * <p>Typed messages, written by the proxy to a client (encoded by {@link PgMessageEncoder}):
 * <pre>
 *   +--------+----------------+---------------------------------------------------+
 *   | byte   | int32 length   | body                                              |
 *   | type   | (incl. itself, |                                                   |
 *   |        |  not the type) |                                                   |
 *   +--------+----------------+---------------------------------------------------+
 *   'E' ErrorResponse             (byte field code, cstring value)*, 0x00
 *   'v' NegotiateProtocolVersion  int32 newest minor supported, int32 n, cstring option * n
 *   'K' BackendKeyData            int32 pid, int32 secret
 * </pre>
 * The single-byte answers to SSLRequest and GSSENCRequest ({@code 'S'} / {@code 'N'}) have no header.
 *
 * <p>All records are immutable and thread-safe.
 */
sealed interface PgMessage {

    /** Code of an SSLRequest ({@code 1234 << 16 | 5679}). */
    int SSL_REQUEST_CODE = 80877103;
    /** Code of a GSSENCRequest ({@code 1234 << 16 | 5680}). */
    int GSSENC_REQUEST_CODE = 80877104;
    /** Code of a CancelRequest ({@code 1234 << 16 | 5678}). */
    int CANCEL_REQUEST_CODE = 80877102;
    /** The only protocol the proxy speaks to computes: 3.0. */
    int PROTOCOL_3_0 = 3 << 16;
    /** Postgres's own cap on untyped startup-phase packets (MAX_STARTUP_PACKET_LENGTH). */
    int MAX_STARTUP_PACKET = 10_000;

    /** Client asks whether the server will do TLS. */
    enum SslRequest implements PgMessage { INSTANCE }

    /** Client asks whether the server will do GSSAPI encryption (never: answered {@code 'N'}). */
    enum GssEncRequest implements PgMessage { INSTANCE }

    /**
     * Client asks, on a fresh connection, to cancel the query running in another session.
     * {@code secret} is 4 bytes in protocol 3.0; 3.2 clients may send up to 256 bytes.
     */
    record CancelRequest(int processId, byte[] secret) implements PgMessage {
        public CancelRequest {
            secret = secret.clone();
        }

        @Override
        public byte[] secret() {
            return secret.clone();
        }
    }

    /**
     * The first message of a session. Parameter order is kept: it is forwarded to the compute.
     * Never log {@link #parameters()} wholesale (it may carry whatever a client put there).
     */
    record StartupMessage(int majorVersion, int minorVersion, Map<String, String> parameters) implements PgMessage {
        public StartupMessage {
            parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        }

        @Override
        public String toString() {
            return "StartupMessage[" + majorVersion + "." + minorVersion + ", parameters=" + parameters.keySet() + "]";
        }
    }

    /** Single-byte answer to SSLRequest / GSSENCRequest: {@code 'S'} (go ahead) or {@code 'N'} (refused). */
    record EncryptionResponse(byte answer) implements PgMessage {
        static final EncryptionResponse ACCEPT = new EncryptionResponse((byte) 'S');
        static final EncryptionResponse REFUSE = new EncryptionResponse((byte) 'N');
    }

    /** A FATAL ErrorResponse: the session ends after it. */
    record ErrorResponse(String sqlState, String message, String detail) implements PgMessage {
        public ErrorResponse {
            Objects.requireNonNull(sqlState);
            Objects.requireNonNull(message);
            if (sqlState.length() != 5) {
                throw new IllegalArgumentException("SQLSTATE must have 5 characters: " + sqlState);
            }
        }

        static ErrorResponse fatal(String sqlState, String message) {
            return new ErrorResponse(sqlState, message, null);
        }
    }

    /** Tells a client asking for protocol 3.x (x &gt; 0) or {@code _pq_.} options that it gets 3.0 without them. */
    record NegotiateProtocolVersion(int newestMinorSupported, List<String> unsupportedOptions) implements PgMessage {
        public NegotiateProtocolVersion {
            unsupportedOptions = List.copyOf(unsupportedOptions);
        }
    }

    /** The cancel key of a session, as the client must see it (the proxy's own, never the compute's). */
    record BackendKeyData(int processId, int secret) implements PgMessage {
    }
}

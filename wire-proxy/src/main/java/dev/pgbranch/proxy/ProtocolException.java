package dev.pgbranch.proxy;

import io.netty.handler.codec.DecoderException;

/**
 * A client broke the startup protocol (bad length, unknown code, malformed parameters). Carries the
 * SQLSTATE of the FATAL ErrorResponse the client gets before the connection is closed.
 */
final class ProtocolException extends DecoderException {

    private final String sqlState;

    ProtocolException(String sqlState, String message) {
        super(message);
        this.sqlState = sqlState;
    }

    String sqlState() {
        return sqlState;
    }
}

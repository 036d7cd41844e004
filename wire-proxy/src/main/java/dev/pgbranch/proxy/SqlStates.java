package dev.pgbranch.proxy;

/** SQLSTATE codes the proxy puts in its own FATAL ErrorResponses (Postgres Appendix A). */
final class SqlStates {
    /** Malformed startup traffic. */
    static final String PROTOCOL_VIOLATION = "08P01";
    /** Protocol major version other than 3. */
    static final String FEATURE_NOT_SUPPORTED = "0A000";
    /** Branch named by the client does not exist (or none named). */
    static final String INVALID_CATALOG_NAME = "3D000";
    /** Compute did not come up before the wake deadline. */
    static final String CANNOT_CONNECT_NOW = "57P03";
    /** Compute failed to start, or could not be reached. */
    static final String CONNECTION_FAILURE = "08006";
    /** Startup packet without a user name. */
    static final String INVALID_AUTHORIZATION = "28000";
    /** Proxy shutting down. */
    static final String ADMIN_SHUTDOWN = "57P01";

    private SqlStates() {
    }
}

/**
 * The web console: static pages served by the management API's HTTP server, browser sessions
 * and login links ({@link dev.pgbranch.pageserver.console.Console}), and the few routes only the
 * console needs: SQL run server side as the branch's user, the branch's databases, and what a
 * reset would replace. Everything else the page shows comes from the API the CLI uses.
 */
package dev.pgbranch.pageserver.console;

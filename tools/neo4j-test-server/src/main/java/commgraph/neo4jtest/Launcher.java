package commgraph.neo4jtest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.neo4j.cli.AdminTool;
import org.neo4j.cli.ExecutionContext;
import org.neo4j.configuration.Config;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.neo4j.driver.Logging;
import org.neo4j.driver.Record;
import org.neo4j.driver.Session;
import org.neo4j.driver.exceptions.AuthenticationException;
import org.neo4j.driver.exceptions.ServiceUnavailableException;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.internal.kernel.api.connectioninfo.ClientConnectionInfo;
import org.neo4j.internal.kernel.api.security.AuthenticationResult;
import org.neo4j.internal.kernel.api.security.LoginContext;
import org.neo4j.kernel.api.security.AuthManager;
import org.neo4j.kernel.api.security.AuthToken;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.server.CommunityBootstrapper;
import org.neo4j.server.NeoBootstrapper;

/**
 * Tiny launcher around the real Neo4j Community server (the same
 * {@link CommunityBootstrapper} that {@code bin/neo4j console} runs), used by
 * {@code server.sh}.
 *
 * <pre>
 *   Launcher serve HOME_DIR CONF_FILE   run the server in the foreground (SIGTERM = clean stop)
 *   Launcher ping  BOLT_URI [USER]      real Bolt login + "CALL dbms.components()"
 * </pre>
 *
 * The password comes from the environment variable {@code NEO4J_PASSWORD}
 * (default {@code commgraph-test}). On the very first start (no system
 * database yet) it is set with the official {@code neo4j-admin dbms
 * set-initial-password}; on every start it is (re)applied with
 * {@code ALTER USER neo4j SET PASSWORD $p CHANGE NOT REQUIRED} on the system
 * database, so changing NEO4J_PASSWORD and restarting just works.
 */
public final class Launcher {
    static final String READY_MARKER = "commgraph-neo4j-test-server: READY";
    static final String DEFAULT_PASSWORD = "commgraph-test";
    private static final int RUNNING = -1;

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args[0].equals("serve")) {
            int rc = serve(Path.of(args[1]).toAbsolutePath(), Path.of(args[2]).toAbsolutePath());
            if (rc != RUNNING) {
                System.exit(rc);
            }
            return;
        } else if (args.length >= 2 && args[0].equals("ping")) {
            System.exit(ping(args[1], args.length >= 3 ? args[2] : "neo4j"));
        }
        System.err.println("usage: Launcher serve HOME_DIR CONF_FILE | Launcher ping BOLT_URI [USER]");
        System.exit(64);
    }

    static String password() {
        String pw = System.getenv("NEO4J_PASSWORD");
        return pw == null || pw.isEmpty() ? DEFAULT_PASSWORD : pw;
    }

    static int serve(Path home, Path confFile) {
        String pw = password();
        Config cfg = Config.newBuilder()
                .set(GraphDatabaseSettings.neo4j_home, home)
                .fromFile(confFile)
                .build();
        int minLen = cfg.get(GraphDatabaseSettings.auth_minimum_password_length);
        if (pw.length() < minLen) {
            System.err.printf("NEO4J_PASSWORD must be at least %d characters (Neo4j's dbms.security.auth_minimum_password_length)%n", minLen);
            return 2;
        }

        Path systemDb = cfg.get(GraphDatabaseSettings.data_directory).resolve("databases").resolve("system");
        if (!Files.exists(systemDb)) {
            // First start: create the neo4j user with our password, no forced change.
            int rc = AdminTool.execute(new ExecutionContext(home, confFile.getParent()),
                    "dbms", "set-initial-password", pw);
            if (rc != 0) {
                System.err.println("neo4j-admin dbms set-initial-password failed with exit code " + rc);
                return rc;
            }
        }

        // Installs its own SIGTERM/SIGINT handlers + shutdown hook that stop the DBMS cleanly.
        NeoBootstrapper bootstrapper = new CommunityBootstrapper();
        int status = bootstrapper.start(home, confFile, Map.of(), false, false);
        if (status != NeoBootstrapper.OK) {
            System.err.println("Neo4j failed to start, status " + status);
            return status;
        }

        DatabaseManagementService dbms = bootstrapper.getDatabaseManagementService();
        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        long t0 = System.nanoTime();
        if (passwordAlreadyValid(system, pw)) {
            System.out.println("neo4j password already matches NEO4J_PASSWORD");
        } else {
            try {
                system.executeTransactionally(
                        "ALTER USER neo4j SET PASSWORD $p CHANGE NOT REQUIRED", Map.of("p", pw));
            } catch (RuntimeException e) {
                // Neo4j refuses "new password == old password"; then only clear the change flag.
                if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                    System.err.println("Setting the neo4j password failed: " + e.getMessage());
                    bootstrapper.stop();
                    return 3;
                }
                system.executeTransactionally("ALTER USER neo4j SET PASSWORD CHANGE NOT REQUIRED");
            }
            System.out.printf("neo4j password set from NEO4J_PASSWORD in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
        System.out.println(READY_MARKER);
        System.out.flush();
        // Main returns; the server's non-daemon threads keep the JVM alive until SIGTERM.
        return RUNNING;
    }

    /**
     * Checks the password through the server's own AuthManager (the same check a
     * Bolt login does) so that the slow cold-Cypher ALTER USER is only run when needed.
     * Any problem with this internal API just means "not known to be valid".
     */
    static boolean passwordAlreadyValid(GraphDatabaseService system, String pw) {
        try {
            AuthManager auth = ((GraphDatabaseAPI) system).getDependencyResolver().resolveDependency(AuthManager.class);
            LoginContext ctx = auth.login(AuthToken.newBasicAuthToken("neo4j", pw), ClientConnectionInfo.EMBEDDED_CONNECTION);
            return ctx.subject().getAuthenticationResult() == AuthenticationResult.SUCCESS;
        } catch (Exception | LinkageError e) {
            System.out.println("password check via AuthManager unavailable (" + e + "); using ALTER USER");
            return false;
        }
    }

    static int ping(String uri, String user) {
        org.neo4j.driver.Config config = org.neo4j.driver.Config.builder()
                .withLogging(Logging.none())
                .withConnectionTimeout(5, TimeUnit.SECONDS)
                .build();
        try (Driver driver = GraphDatabase.driver(uri, AuthTokens.basic(user, password()), config);
                Session session = driver.session()) {
            List<Record> rows = session.run(
                    "CALL dbms.components() YIELD name, versions, edition RETURN name, versions[0] AS version, edition")
                    .list();
            for (Record r : rows) {
                System.out.printf("%s %s %s%n", r.get("name").asString(), r.get("version").asString(),
                        r.get("edition").asString());
            }
            return 0;
        } catch (AuthenticationException e) {
            System.err.println("authentication failed: " + e.getMessage());
            return 1;
        } catch (ServiceUnavailableException e) {
            System.err.println("unavailable: " + e.getMessage());
            return 2;
        } catch (RuntimeException e) {
            System.err.println("error: " + e);
            return 2;
        }
    }
}

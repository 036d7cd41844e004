package dev.pgbranch.pageserver.console;

import dev.pgbranch.pageserver.testing.ServerProcess;
import dev.pgbranch.pageserver.testing.Sql;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seed workflow through the web console only, in a real headless Chromium against a real
 * server (its own JVM, computes on FUSE): log in with a one-time link, create a table in the SQL
 * editor, create dev/alex in the dialog, migrate it in the editor, see the column and index as
 * additions in the schema diff, promote, reset dev/alex through the modal, and have the protected
 * production refuse deletion. Assertions read what the page shows, then the databases through
 * the proxy. Each step leaves a screenshot in {@link Browser#SCREENSHOTS} (the README shows some).
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleBrowserTest {

    private ServerProcess server;
    private Browser browser;
    private String base;

    @BeforeAll
    void startServerAndBrowser() throws Exception {
        server = new ServerProcess("ConsoleBrowserTest");
        server.start();
        base = server.info().api();
        browser = new Browser();
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (browser != null) {
                browser.close();
            }
        } finally {
            if (server != null) {
                server.close();
            }
        }
    }

    @Test
    void theSeedWorkflowRunsInTheBrowserFromLoginToAProtectedProductionRefusingDelete() throws Exception {
        try {
            seedWorkflow();
        } catch (Throwable e) {
            browser.screenshot("failure"); // what the page showed when the test gave up
            throw e;
        }
    }

    private void seedWorkflow() throws Exception {
        // Login: a wrong token is refused in the form; the link from `pgbranch console` opens a session.
        browser.open(base + "/");
        browser.find("#token").sendKeys("not-the-token");
        browser.clickButton("Log in");
        assertTrue(browser.waitForText(".login .callout.error", "wrong token").contains("UNAUTHORIZED"));
        browser.screenshot("00-login");
        String link = server.cliOk("console").strip();
        assertTrue(link.startsWith(base + "/console/login?link="), link);
        browser.open(link);
        browser.find("tr[data-branch='development']");
        assertTrue(browser.find("tr[data-branch='production'] .shield").getText().contains("protected"));
        browser.screenshot("01-branches");

        // The SQL editor on development: three statements, three result tabs, the count in the last.
        browser.clickLink("SQL editor");
        new Select(browser.find("#sql-branch")).selectByValue("development");
        browser.typeSql("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n"
                + "INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 1000) g;\n"
                + "SELECT count(*) AS users FROM users;");
        browser.click("#sql-run");
        browser.until(d -> browser.all("#sql-tabs button").size() == 3);
        browser.waitForText("#sql-result", "1000");
        assertEquals(List.of("users"), browser.all("#sql-result th").stream().map(WebElement::getText).toList());
        browser.screenshot("02-sql-editor");

        // Create child branch: the name is checked inline, then dev/alex appears in the tree.
        browser.clickLink("Branches");
        browser.click("#create-branch");
        new Select(browser.find("#new-parent")).selectByValue("development");
        browser.find("#new-name").sendKeys("dev alex");
        assertTrue(browser.waitForText("#new-name-error", "whitespace").contains("allowed"));
        browser.find("#new-name").clear();
        browser.find("#new-name").sendKeys("dev/alex");
        browser.until(ExpectedConditions.textToBe(By.id("new-name-error"), ""));
        browser.find("input[name='new-expiry'][value='7d']").click();
        browser.screenshot("03-create-branch");
        browser.click("#create-submit");
        browser.find("tr[data-branch='dev/alex']");
        assertTrue(browser.find("tr[data-branch='dev/alex'] .indent").getText().contains("└─"));
        assertTrue(server.cliJson("branch", "show", "dev/alex").path("expiresAt").isTextual());

        // The branch page: connection details, the .env line.
        browser.clickLink("dev/alex");
        String connection = browser.waitForText("#connection", "DATABASE_URL=postgresql://");
        String uri = server.cliOk("connect", "dev/alex").strip();
        assertTrue(connection.contains(uri), connection);
        browser.screenshot("04-branch-page");

        // Migrate dev/alex in the editor; a typo answers with its SQLSTATE and where it is.
        browser.clickLink("Open SQL editor");
        browser.until(d -> new Select(browser.find("#sql-branch")).getFirstSelectedOption().getText().equals("dev/alex"));
        browser.typeSql("ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free';\n"
                + "CREATE INDEX users_plan_idx ON users (plan);\n"
                + "SELECT plna FROM users;");
        browser.click("#sql-run");
        String error = browser.waitForText("#sql-error", "42703");
        assertTrue(error.contains("column \"plna\" does not exist") && error.contains("line 3, column 8"), error);
        browser.screenshot("05-sql-error");

        // Schema diff: the column and the index are additions on dev/alex.
        browser.clickLink("Branches");
        browser.clickLink("dev/alex");
        browser.click("#open-diff");
        WebElement column = browser.find(".change[data-object='public.users.plan']");
        assertEquals("added", column.getAttribute("data-change"));
        assertTrue(column.findElement(By.cssSelector(".line.add")).getText().contains("text"));
        assertEquals("added", browser.find(".change[data-object='public.users_plan_idx']").getAttribute("data-change"));
        assertTrue(browser.find("#migration-sql").getText().contains("CREATE INDEX users_plan_idx"));
        browser.screenshot("06-schema-diff");

        // Promote: a dry run first, then for real; verified, and development has both.
        browser.click("#promote-dry-run");
        browser.waitForText("#promote-result", "Dry run: would promote 2 change(s) into development");
        browser.click("#promote");
        browser.waitForText("#promote-result", "Verified");
        browser.screenshot("07-promoted");
        try (Connection dev = server.connect("development"); Statement sql = dev.createStatement()) {
            assertEquals("free", Sql.queryString(sql, "SELECT plan FROM users WHERE id = 1"));
            assertEquals(1, Sql.queryLong(sql, "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_plan_idx'"));
        }

        // Reset through the modal: it names the databases, roles, the open connection and the unpromoted table.
        browser.clickLink("SQL editor");
        new Select(browser.find("#sql-branch")).selectByValue("dev/alex");
        browser.typeSql("CREATE TABLE scratch (note text);");
        browser.click("#sql-run");
        browser.waitForText("#sql-result", "Done.");
        try (Connection open = server.connect("dev/alex"); Statement held = open.createStatement()) {
            held.execute("SELECT 1");
            browser.clickLink("Branches");
            browser.clickLink("dev/alex");
            browser.click("#reset");
            assertTrue(browser.waitForText("#reset-connections", "1 connection will be dropped").contains("127.0.0.1"));
            assertTrue(browser.find("#reset-databases").getText().contains("postgres"));
            assertTrue(browser.find("#reset-roles").getText().contains("postgres"));
            String lost = browser.waitForText("#reset-lost", "public.scratch");
            assertTrue(lost.contains("ADDED") && !lost.contains("users_plan_idx"), "promoted changes are not lost: " + lost);
            assertTrue(browser.find("#reset-submit").getAttribute("disabled") != null);
            browser.find("#reset-confirm").sendKeys("dev/alex");
            browser.screenshot("08-reset-modal");
            browser.click("#reset-submit");
            browser.until(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector(".modal")));
            assertThrows(SQLException.class, () -> held.execute("SELECT 1"), "the reset drops open sessions");
        }
        try (Connection alex = server.connect("dev/alex"); Statement sql = alex.createStatement()) {
            assertEquals(0, Sql.queryLong(sql, "SELECT count(*) FROM pg_tables WHERE tablename = 'scratch'"));
            assertEquals(1000, Sql.queryLong(sql, "SELECT count(*) FROM users WHERE plan = 'free'"));
        }

        // Restore dev/alex (its page is still shown) to its head LSN: the replaced state is kept as a backup branch.
        String head = browser.find("#head-lsn").getText();
        browser.click("#restore");
        browser.find("#restore-lsn").sendKeys(head);
        browser.click("#restore-submit");
        String kept = browser.waitForText("#toasts", "previous state is kept as dev/alex_old_");
        assertTrue(server.cliOk("branch", "list").contains("dev/alex_old_"), kept);

        // Protect and unprotect, each confirmed.
        browser.click("#protect");
        assertTrue(browser.find(".modal").getText().contains("Protected branches cannot be deleted"));
        browser.click(".modal footer button:last-child");
        browser.find("h1 .shield");
        browser.click("#protect");
        browser.click(".modal footer button:last-child");
        browser.until(d -> browser.all("h1 .shield").isEmpty());

        // Compute stop and start, and the expiry set at creation taken off again.
        String state = browser.find("h1 .state").getText();
        String other = state.equals("running") ? "suspended" : "running";
        for (String next : List.of(other, state)) {
            browser.waitForText("#compute-toggle", next.equals("running") ? "Start compute" : "Stop compute");
            browser.click("#compute-toggle");
            browser.until(d -> browser.find("h1 .state").getText().equals(next));
            assertEquals(next, server.cliJson("branch", "show", "dev/alex").path("computeState").asText());
        }
        browser.click("#expiry");
        browser.find("input[name='set-expiry'][value='never']").click();
        browser.clickButton("Save");
        browser.until(d -> server.cliJson("branch", "show", "dev/alex").path("expiresAt").isNull());
        browser.clickLink("Branches");
        String guide = browser.find("tr[data-branch^='dev/alex_old_'] .indent").getText();
        assertTrue(guide.matches(" +└─ *"), "a grandchild is indented under its parent: '" + guide + "'");
        browser.screenshot("08b-branch-tree");

        // Protected production refuses deletion, in the API's words.
        browser.clickLink("Branches");
        browser.clickLink("production");
        browser.click("#delete");
        browser.click(".modal footer button:last-child");
        String refusal = browser.waitForText("#action-result", "PROTECTED");
        assertTrue(refusal.contains("protected"), refusal);
        browser.screenshot("09-protected-refuses-delete");
        assertTrue(server.cliJson("branch", "show", "production").path("protected").asBoolean());

        // Project settings: GC now, with its report.
        browser.clickLink("Project settings");
        browser.click("#gc-now");
        browser.waitForText("#gc-report", "Freed");
        for (WebElement dropped : browser.all("#gc-report tbody td:nth-child(6)")) {
            assertTrue(dropped.getText().matches("\\d+"), "versions dropped: '" + dropped.getText() + "'");
        }
        browser.screenshot("10-settings");

        // A narrow window: the tree still fits, without sideways scrolling of the page.
        browser.driver.manage().window().setSize(new Dimension(480, 900));
        browser.clickLink("Branches");
        browser.find("tr[data-branch='dev/alex']");
        assertEquals(Boolean.TRUE, browser.driver.executeScript(
                "return document.documentElement.scrollWidth <= window.innerWidth"), "no horizontal overflow at 480 px");
        browser.screenshot("11-narrow");

        assertEquals(List.of(), browser.severeConsoleMessages(), "no script error and no CSP violation in the page");
    }
}

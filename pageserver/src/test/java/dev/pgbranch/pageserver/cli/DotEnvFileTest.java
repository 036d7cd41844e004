package dev.pgbranch.pageserver.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DotEnvFileTest {

    @TempDir
    Path directory;

    @Test
    void aMissingFileIsCreatedForItsOwnerAlone() throws Exception {
        Path file = directory.resolve(".env");
        assertEquals(DotEnvFile.Change.CREATED, DotEnvFile.set(file, "DATABASE_URL", "postgresql://a"));
        assertEquals("DATABASE_URL=postgresql://a\n", Files.readString(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void onlyTheVariablesOwnLinesChangeKeepingExportQuotesAndPermissions() throws Exception {
        Path file = directory.resolve(".env");
        String before = "# app settings\nSECRET_KEY=s3cr3t\nexport DATABASE_URL=\"postgresql://old\"\r\n\n"
                + "DATABASE_URL_REPLICA=keep\nDATABASE_URL = postgresql://older \nDEBUG=1";
        Files.writeString(file, before);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        assertEquals(DotEnvFile.Change.UPDATED, DotEnvFile.set(file, "DATABASE_URL", "postgresql://new"));
        assertEquals("# app settings\nSECRET_KEY=s3cr3t\nexport DATABASE_URL=\"postgresql://new\"\r\n\n"
                + "DATABASE_URL_REPLICA=keep\nDATABASE_URL = postgresql://new \nDEBUG=1", Files.readString(file));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(DotEnvFile.Change.UNCHANGED, DotEnvFile.set(file, "DATABASE_URL", "postgresql://new"));
    }

    @Test
    void aFileWithoutTheVariableGetsOneLineAppended() throws Exception {
        Path file = directory.resolve("app.env");
        Files.writeString(file, "DEBUG=1");
        assertEquals(DotEnvFile.Change.APPENDED, DotEnvFile.set(file, "DATABASE_URL", "postgresql://x"));
        assertEquals("DEBUG=1\nDATABASE_URL=postgresql://x\n", Files.readString(file));
        try (var left = Files.list(directory)) {
            assertEquals(1, left.count(), "no temporary file left behind");
        }
    }
}

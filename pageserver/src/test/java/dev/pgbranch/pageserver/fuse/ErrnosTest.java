package dev.pgbranch.pageserver.fuse;

import dev.pgbranch.storage.NamespaceException;
import dev.pgbranch.storage.NamespaceException.Reason;
import dev.pgbranch.storage.NoSuchTimelineException;
import dev.pgbranch.storage.TimelineId;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.FileSystemException;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ErrnosTest {

    @Test
    void everyNamespaceReasonMapsToItsErrno() {
        assertEquals(2, Errnos.of(new NamespaceException(Reason.NOT_FOUND, "x")));
        assertEquals(17, Errnos.of(new NamespaceException(Reason.EXISTS, "x")));
        assertEquals(20, Errnos.of(new NamespaceException(Reason.NOT_A_DIRECTORY, "x")));
        assertEquals(21, Errnos.of(new NamespaceException(Reason.IS_A_DIRECTORY, "x")));
        assertEquals(39, Errnos.of(new NamespaceException(Reason.NOT_EMPTY, "x")));
        assertEquals(22, Errnos.of(new NamespaceException(Reason.INVALID_NAME, "x")));
        assertEquals(22, Errnos.of(new NamespaceException(Reason.INVALID_ARGUMENT, "x")));
        assertEquals(27, Errnos.of(new NamespaceException(Reason.FILE_TOO_LARGE, "x")));
        assertEquals(28, Errnos.of(new NamespaceException(Reason.NO_SPACE, "x")));
    }

    @Test
    void diskFullIsEnospcAndOtherStoreFailuresAreEio() {
        assertEquals(28, Errnos.of(new FileSystemException("/store/log", null, "No space left on device")));
        assertEquals(28, Errnos.of(new IOException("append failed", new IOException("No space left on device"))));
        assertEquals(5, Errnos.of(new IOException("checksum mismatch in layer 0001 at block 7")));
    }

    @Test
    void programmingErrorsNeverEscapeAsAnythingButAnErrno() {
        assertEquals(5, Errnos.of(new NoSuchTimelineException(TimelineId.random())));
        assertEquals(22, Errnos.of(new IllegalArgumentException("negative offset")));
        assertEquals(38, Errnos.of(new UnsupportedOperationException()));
        assertEquals(12, Errnos.of(new OutOfMemoryError()));
        assertEquals(5, Errnos.of(new NullPointerException()));
        assertEquals(5, Errnos.of(new StackOverflowError()));
    }
}

package dev.pgbranch.pageserver.api;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PathCodecTest {

    @Test
    void anEncodedSlashStaysInsideItsSegment() {
        assertEquals(List.of("v1", "projects", "default", "branches", "dev/alex", "reset"),
                ApiServer.segments("/v1/projects/default/branches/dev%2Falex/reset"));
    }

    @Test
    void plusIsNotASpaceInPaths() {
        assertEquals("a+b", ApiServer.percentDecode("a+b"));
    }

    @Test
    void multiByteUtf8IsDecoded() {
        assertEquals("dev/ü", ApiServer.percentDecode("dev%2F%C3%BC"));
    }

    @Test
    void dotSegmentsArriveAsNamesForTheValidatorToReject() {
        assertEquals(List.of("branches", "../x"), ApiServer.segments("/branches/..%2Fx"));
    }

    @Test
    void malformedPercentEncodingIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> ApiServer.percentDecode("dev%2"));
        assertThrows(IllegalArgumentException.class, () -> ApiServer.percentDecode("dev%zz"));
    }
}

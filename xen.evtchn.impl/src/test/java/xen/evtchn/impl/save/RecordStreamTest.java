package xen.evtchn.impl.save;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.host.SaveStreamException;
import xen.evtchn.impl.grant.GrantTable;
import xen.evtchn.impl.grant.GrantTableImage;

/**
 * Version 3's records: their order, an unknown optional record skipped wherever it is, an unknown
 * mandatory one refused, and every malformed framing refused with a SaveStreamException that says
 * what is wrong. The streams are the old ones' images written again (version 3).
 */
class RecordStreamTest {
    private static final int UNKNOWN = 0x7F01;
    private static final byte[] SOME_BODY = {1, 2, 3, (byte) 0xFF, 0};

    static byte[] twoLevel() {
        return SaveStream.write(SaveStream.read(OldStreams.stream("v1-every-kind")));
    }

    static byte[] fifo() {
        return SaveStream.write(SaveStream.read(OldStreams.stream("v2-fifo")));
    }

    static List<Integer> types(byte[] stream) {
        return StreamSeal.records(stream).stream().map(at -> StreamSeal.type(stream, at)).toList();
    }

    /** The start of the first record of type {@code type}. */
    static int record(byte[] stream, RecordType type) {
        for (int at : StreamSeal.records(stream)) {
            if (StreamSeal.type(stream, at) == type.number) {
                return at;
            }
        }
        throw new AssertionError("no " + type);
    }

    static String refusal(byte[] stream) {
        return assertThrows(SaveStreamException.class, () -> SaveStream.read(stream)).getMessage();
    }

    static void assertRefused(String part, byte[] stream) {
        String message = refusal(stream);
        assertTrue(message.contains(part), message);
    }

    @Test
    void theRecordsComeInTheirOrderAndEndWithEnd() {
        byte[] s = twoLevel();
        assertEquals(SaveStream.VERSION_RECORDS, s[8]);
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 0), types(s));
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 0), types(fifo()));
        for (int at : StreamSeal.records(s)) {
            assertEquals(0, s[at + 2] | s[at + 3], "every record is mandatory");
        }
        int end = StreamSeal.records(s).getLast();
        assertEquals(0, StreamSeal.length(s, end), "END has no body");
        assertEquals(s.length - SaveStream.TRAILER, end + StreamSeal.RECORD_HEADER, "and nothing follows it");
    }

    @Test
    void anUnknownOptionalRecordIsSkippedWhereverItIs() {
        for (byte[] s : List.of(twoLevel(), fifo())) {
            String image = ImageText.of(SaveStream.read(s));
            for (int at : StreamSeal.records(s)) {
                for (byte[] body : List.of(new byte[0], SOME_BODY)) {
                    byte[] with = StreamSeal.withRecord(s, at, UNKNOWN, StreamSeal.OPTIONAL, body);
                    assertEquals(image, ImageText.of(SaveStream.read(with)), "an optional record at byte " + at);
                }
            }
        }
    }

    @Test
    void anUnknownMandatoryRecordIsRefused() {
        byte[] s = twoLevel();
        for (int at : StreamSeal.records(s)) {
            assertRefused("byte " + at + ": record type 32513 is not one this host knows, and it is not optional",
                    StreamSeal.withRecord(s, at, UNKNOWN, 0, SOME_BODY));
        }
        assertRefused("record type 11 is not one this host knows", StreamSeal.withRecord(s, record(s, RecordType.END), 11, 0,
                new byte[0]));
    }

    @Test
    void reservedFlagsAreRefused() {
        byte[] s = twoLevel();
        assertRefused("record type 32513 has flags 0x3: bits other than 0 (optional) are reserved",
                StreamSeal.withRecord(s, record(s, RecordType.PORTS), UNKNOWN, 3, SOME_BODY));
        byte[] flagged = s.clone();
        flagged[record(s, RecordType.TIMERS) + 3] = (byte) 0x80;
        assertRefused("record type 6 has flags 0x8000", StreamSeal.resealed(flagged));
    }

    @Test
    void aLengthThatDisagreesWithTheBodyIsRefused() {
        byte[] s = twoLevel();
        int ports = record(s, RecordType.PORTS);
        int length = StreamSeal.length(s, ports);
        assertRefused("record PORTS (2) ends within", StreamSeal.withLength(s, ports, length - 1));
        assertRefused("record PORTS (2) is longer than its fields: 1 bytes left over", StreamSeal.withLength(s, ports, length + 1));
        int end = record(s, RecordType.END);
        assertRefused("record type 2's length (" + (s.length - ports) + " bytes) runs past the stream's end",
                StreamSeal.withLength(s, ports, s.length - ports));
        assertRefused("record type 2's length (4294967295 bytes) runs past", StreamSeal.withLength(s, ports, 0xFFFF_FFFFL));
        assertRefused("record type 0's length (1 bytes) runs past the stream's end (0 bytes left)", StreamSeal.withLength(s, end, 1));
        byte[] endWithBody = Arrays.copyOf(s, s.length + 1);
        System.arraycopy(s, s.length - SaveStream.TRAILER, endWithBody, endWithBody.length - SaveStream.TRAILER, SaveStream.TRAILER);
        assertRefused("the END record has a body (1 bytes)", StreamSeal.withLength(endWithBody, end, 1));
    }

    @Test
    void aTruncatedRecordIsRefused() {
        byte[] s = twoLevel();
        int timers = record(s, RecordType.TIMERS);
        byte[] cut = Arrays.copyOf(s, timers + StreamSeal.RECORD_HEADER + 2 + SaveStream.TRAILER);
        assertRefused("record type 6's length", StreamSeal.resealed(cut));
        byte[] midHeader = Arrays.copyOf(s, timers + 3 + SaveStream.TRAILER);
        assertRefused("truncated in record flags", StreamSeal.resealed(midHeader));
        int end = record(s, RecordType.END);
        assertRefused("truncated: the last record is not END", StreamSeal.without(s, end, StreamSeal.RECORD_HEADER));
    }

    @Test
    void everyTruncationResealedIsRefusedByTheReadersOwnChecks() {
        for (byte[] s : List.of(twoLevel(), fifo())) {
            for (int body = 0; body < s.length - SaveStream.HEADER - SaveStream.TRAILER; body++) {
                byte[] cut = Arrays.copyOf(s, SaveStream.HEADER + body + SaveStream.TRAILER);
                String message = refusal(StreamSeal.resealed(cut));
                assertTrue(message.startsWith("save stream, byte "), message);
            }
        }
    }

    @Test
    void missingRepeatedOrMisplacedRecordsAreRefused() {
        byte[] s = twoLevel();
        int timers = record(s, RecordType.TIMERS);
        byte[] noTimers = StreamSeal.without(s, timers, StreamSeal.RECORD_HEADER + StreamSeal.length(s, timers));
        assertRefused("record BACKENDS (7) where TIMERS (6) must come", noTimers);
        int params = record(s, RecordType.HVM_PARAMS);
        byte[] paramsBody = Arrays.copyOfRange(s, params + StreamSeal.RECORD_HEADER, params + StreamSeal.RECORD_HEADER
                + StreamSeal.length(s, params));
        assertRefused("record HVM_PARAMS (3) where VCPUS (4) must come",
                StreamSeal.withRecord(s, record(s, RecordType.VCPUS), 3, 0, paramsBody));
        assertRefused("record PORTS (2) where DOMAIN (1) must come",
                StreamSeal.without(s, StreamSeal.HEADER, record(s, RecordType.PORTS) - StreamSeal.HEADER));
        assertRefused("a FIFO record for a domain on the 2-level ABI",
                StreamSeal.withRecord(s, record(s, RecordType.END), 8, 0, new byte[0]));
        assertRefused("record DOMAIN (1) where END (0) must come",
                StreamSeal.withRecord(s, record(s, RecordType.END), 1, 0, new byte[] {1}));
        byte[] f = fifo();
        int fifo = record(f, RecordType.FIFO);
        assertRefused("the stream ends without record FIFO (8)",
                StreamSeal.without(f, fifo, StreamSeal.RECORD_HEADER + StreamSeal.length(f, fifo)));
        byte[] after = Arrays.copyOf(s, s.length + 1);
        System.arraycopy(s, s.length - SaveStream.TRAILER, after, after.length - SaveStream.TRAILER, SaveStream.TRAILER);
        assertRefused("bytes after the END record", StreamSeal.resealed(after));
    }

    @Test
    void aRecordsFieldsAreCheckedAsInVersionOne() {
        byte[] s = twoLevel();
        byte[] abi = s.clone();
        abi[record(s, RecordType.PORTS) + StreamSeal.RECORD_HEADER] = 3;
        assertRefused("event ABI is neither 1 (2-level) nor 2 (FIFO)", StreamSeal.resealed(abi));
        byte[] width = s.clone();
        width[StreamSeal.HEADER + StreamSeal.RECORD_HEADER + 1] = 9;
        assertRefused("width is neither", StreamSeal.resealed(width));
    }

    // ---- the grant table record ----

    /** A valid GRANT_TABLE body: 2 frames, frame 0 at guest frame 0x20, frame 1 out of guest memory and kept, ref 3 pinned. */
    static byte[] grantBody(int version, int frames, long gpfn0, int flag1, int... pinned) {
        StreamWriter w = new StreamWriter(64);
        w.u8(version);
        w.varint(frames);
        w.varint(gpfn0 + 1);
        w.u8(0);
        if (frames > 1) {
            w.varint(0);
            w.u8(flag1);
            if (flag1 == 1) {
                w.bytes(new byte[4096]);
            }
        }
        w.varint(pinned.length);
        for (int ref : pinned) {
            w.varint(ref);
        }
        return w.toArray();
    }

    static byte[] withGrants(byte[] s, byte[] body) {
        return StreamSeal.withRecord(s, record(s, RecordType.END), RecordType.GRANT_TABLE.number, 0, body);
    }

    @Test
    void aGrantTableRecordComesAfterTheOthersAndReadsBack() {
        DomainImage i = SaveStream.read(twoLevel());
        byte[] page = new byte[4096];
        page[8] = 1;
        GrantTableImage g = new GrantTableImage(1, new long[] {0x20, 0x1000, GrantTable.UNMAPPED},
                new byte[][] {null, page, null}, new int[] {3, 600});
        byte[] s = SaveStream.write(new DomainImage(i.domid(), i.width(), i.xenMajor(), i.xenMinor(), i.systemTime(),
                i.events(), i.hvmParams(), i.timers(), g));
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 9, 0), types(s));
        assertEquals(0, s[record(s, RecordType.GRANT_TABLE) + 2], "mandatory");
        GrantTableImage back = SaveStream.read(s).grants();
        assertEquals(1, back.version());
        assertArrayEquals(g.gpfns(), back.gpfns());
        assertNull(back.contents()[0]);
        assertArrayEquals(page, back.contents()[1]);
        assertNull(back.contents()[2]);
        assertTrue(back.onExtraPage(1) && !back.onExtraPage(0) && !back.onExtraPage(2));
        assertArrayEquals(new int[] {3, 600}, back.pinnedRefs());
        assertEquals(ImageText.of(i), ImageText.of(SaveStream.read(s)), "the rest as it was");
        assertNull(SaveStream.read(twoLevel()).grants(), "no record: a new domain's table");
        GrantTableImage inFifo = SaveStream.read(withGrants(fifo(), grantBody(1, 2, 0x20, 1, 3))).grants();
        assertTrue(inFifo.contents()[1] != null && inFifo.gpfns()[1] == GrantTable.UNMAPPED, "kept entries travel");
    }

    @Test
    void malformedGrantTableRecordsAreRefused() {
        byte[] s = twoLevel();
        assertEquals(3, SaveStream.read(withGrants(s, grantBody(1, 2, 0x20, 0, 3))).grants().pinnedRefs()[0]);
        assertRefused("grant table version 2; this host has version 1 only", withGrants(s, grantBody(2, 2, 0x20, 0)));
        assertRefused("grant table frame count is 0, less than 1", withGrants(s, new byte[] {1, 0, 0}));
        assertRefused("grant table frame count is 65, more than 64", withGrants(s, new byte[] {1, 65, 0}));
        assertRefused("grant table frame 0's guest frame + 1 is 2251799813685249, more than 2251799813685248",
                withGrants(s, grantBody(1, 1, Long.MAX_VALUE / 4096 + 1, 0)));
        byte[] twice = {1, 2, 0x21, 0, 0x21, 0, 0};
        assertRefused("grant table frames 0 and 1 are both at guest frame 0x20", withGrants(s, twice));
        assertRefused("grant table frame 1's contents flag is 0 or 1, not 2", withGrants(s, grantBody(1, 2, 0x20, 2)));
        assertRefused("record GRANT_TABLE (9) ends within grant table frame 0's contents (its length is too short)",
                withGrants(s, new byte[] {1, 1, 0, 1, 0, 0, 0}));
        assertRefused("pinned grant count is 513, more than 512", withGrants(s, new byte[] {1, 1, 0, 0, (byte) 0x81, 4}));
        assertRefused("pinned grant reference is 1024, more than 1023",
                withGrants(s, grantBody(1, 2, 0x20, 0, 1, 1024)));
        assertRefused("pinned grant reference 5 is out of order or repeated", withGrants(s, grantBody(1, 2, 0x20, 0, 5, 5)));
        byte[] longer = Arrays.copyOf(grantBody(1, 1, 0x20, 0), grantBody(1, 1, 0x20, 0).length + 1);
        assertRefused("record GRANT_TABLE (9) is longer than its fields: 1 bytes left over", withGrants(s, longer));
    }

    @Test
    void aGrantTableRecordOutOfPlaceIsRefused() {
        byte[] s = twoLevel();
        byte[] body = grantBody(1, 1, 0x20, 0);
        assertRefused("record GRANT_TABLE (9) where BACKENDS (7) must come", StreamSeal.withRecord(s,
                record(s, RecordType.BACKENDS), RecordType.GRANT_TABLE.number, 0, body));
        assertRefused("record GRANT_TABLE (9) where END (0) must come", withGrants(withGrants(s, body), body));
        byte[] f = fifo();
        assertRefused("record GRANT_TABLE (9) where FIFO (8) must come", StreamSeal.withRecord(f,
                record(f, RecordType.FIFO), RecordType.GRANT_TABLE.number, 0, body));
        assertRefused("record FIFO (8) where END (0) must come", StreamSeal.withRecord(withGrants(f, body),
                record(withGrants(f, body), RecordType.END), RecordType.FIFO.number, 0, new byte[0]));
    }

    @Test
    void partRecordsComeAfterTheOthersNamesAscendingAndAreChecked() {
        byte[] s = twoLevel();
        int end = record(s, RecordType.END);
        byte[] a = partBody("a.part", 1, 2, 3);
        byte[] b = partBody("b-part");
        byte[] two = StreamSeal.withRecord(StreamSeal.withRecord(s, end, 10, 0, a), end + StreamSeal.RECORD_HEADER + a.length,
                10, StreamSeal.OPTIONAL, b);
        DomainImage image = SaveStream.read(two);
        assertEquals(List.of("a.part", "b-part"), image.parts().stream().map(PartImage::name).toList());
        assertTrue(image.parts().get(0).mandatory());
        assertEquals(false, image.parts().get(1).mandatory());
        assertArrayEquals(new byte[] {1, 2, 3}, image.parts().get(0).state());
        assertEquals(0, image.parts().get(1).state().length);
        DomainImage again = SaveStream.read(SaveStream.write(image));
        assertEquals(ImageText.of(image), ImageText.of(again), "written back the same");
        assertEquals(2, again.parts().size());
        for (int i = 0; i < 2; i++) {
            assertEquals(image.parts().get(i).name(), again.parts().get(i).name());
            assertEquals(image.parts().get(i).mandatory(), again.parts().get(i).mandatory());
            assertArrayEquals(image.parts().get(i).state(), again.parts().get(i).state());
        }
        byte[] backwards = StreamSeal.withRecord(StreamSeal.withRecord(s, end, 10, 0, b), end + StreamSeal.RECORD_HEADER + b.length,
                10, 0, a);
        assertRefused("state part \"a.part\" is out of order or repeated", backwards);
        assertRefused("state part \"a.part\" is out of order or repeated",
                StreamSeal.withRecord(StreamSeal.withRecord(s, end, 10, 0, a), end + StreamSeal.RECORD_HEADER + a.length, 10, 0, a));
        assertRefused("a state part's name is letters, digits and . _ - only", StreamSeal.withRecord(s, end, 10, 0, partBody("a b")));
        assertRefused("state part name length is 0, less than 1", StreamSeal.withRecord(s, end, 10, 0, new byte[] {0}));
        assertRefused("state part name length is 129, more than 128", StreamSeal.withRecord(s, end, 10, 0, new byte[] {(byte) 0x81, 1}));
        assertRefused("record PART (10) ends within state part name", StreamSeal.withRecord(s, end, 10, 0, new byte[] {5, 'a'}));
        assertRefused("record BACKENDS (7) where END (0) must come", StreamSeal.withRecord(two, record(two, RecordType.END), 7, 0, new byte[] {0}));
        assertRefused("record PART (10) where", StreamSeal.withRecord(s, record(s, RecordType.BACKENDS), 10, 0, a));
    }

    private static byte[] partBody(String name, int... state) {
        byte[] n = name.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        byte[] body = new byte[1 + n.length + state.length];
        body[0] = (byte) n.length;
        System.arraycopy(n, 0, body, 1, n.length);
        for (int i = 0; i < state.length; i++) {
            body[1 + n.length + i] = (byte) state[i];
        }
        return body;
    }
}

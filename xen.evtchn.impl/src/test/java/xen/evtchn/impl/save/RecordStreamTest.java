package xen.evtchn.impl.save;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.host.SaveStreamException;

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
        assertRefused("record type 9 is not one this host knows", StreamSeal.withRecord(s, record(s, RecordType.END), 9, 0,
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
}

package xen.store.wire;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;
import xen.store.tree.Quotas;
import xen.store.tree.Store;

/** Each request's payload conventions and xenstored's answers, through a connection's byte stream. */
class ConnectionTest {
    final Store store = new Store(Quotas.DEFAULTS);
    final Connection dom0 = new Connection(store, 0);
    final Connection guest = new Connection(store, 1);

    ConnectionTest() {
        store.introduceDomain(1);
        store.introduceDomain(2);
    }

    static WireMessage req(int type, String... strings) {
        return WireMessage.of(type, 7, 0, strings);
    }

    static void assertReply(WireMessage reply, int type, String payload) {
        assertEquals(payload, reply.text());
        assertEquals(type, reply.type());
        assertEquals(7, reply.reqId(), "req_id echoed");
    }

    @Test
    void typeNumbersAreXsWireH() {
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22),
                List.of(XsType.CONTROL, XsType.DIRECTORY, XsType.READ, XsType.GET_PERMS, XsType.WATCH, XsType.UNWATCH,
                        XsType.TRANSACTION_START, XsType.TRANSACTION_END, XsType.INTRODUCE, XsType.RELEASE,
                        XsType.GET_DOMAIN_PATH, XsType.WRITE, XsType.MKDIR, XsType.RM, XsType.SET_PERMS,
                        XsType.WATCH_EVENT, XsType.ERROR, XsType.IS_DOMAIN_INTRODUCED, XsType.RESUME,
                        XsType.SET_TARGET, XsType.RESET_WATCHES, XsType.DIRECTORY_PART));
    }

    @Test
    void headerIsFourLittleEndianWords() {
        byte[] bytes = new WireMessage(XsType.READ, 0x01020304, 5, "a\0".getBytes(ISO_8859_1)).encode();
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(List.of(2, 0x01020304, 5, 2), List.of(b.getInt(), b.getInt(), b.getInt(), b.getInt()));
        assertEquals(18, bytes.length);
    }

    @Test
    void writeReadDirectoryRmAnswerAsXenstored() {
        WireMessage write = new WireMessage(XsType.WRITE, 7, 0, "data/k\0value".getBytes(ISO_8859_1));
        assertReply(Wire.call(guest, write), XsType.WRITE, "OK\0");
        assertReply(Wire.call(guest, req(XsType.READ, "data/k")), XsType.READ, "value");
        assertReply(Wire.call(guest, req(XsType.MKDIR, "data/m")), XsType.MKDIR, "OK\0");
        assertReply(Wire.call(guest, req(XsType.DIRECTORY, "data")), XsType.DIRECTORY, "k\0m\0");
        assertReply(Wire.call(guest, req(XsType.GET_PERMS, "data/k")), XsType.GET_PERMS, "n1\0");
        assertReply(Wire.call(guest, req(XsType.SET_PERMS, "data/k", "n1", "r2")), XsType.SET_PERMS, "OK\0");
        assertReply(Wire.call(guest, req(XsType.GET_PERMS, "data/k")), XsType.GET_PERMS, "n1\0r2\0");
        assertReply(Wire.call(guest, req(XsType.RM, "data")), XsType.RM, "OK\0");
        assertReply(Wire.call(guest, req(XsType.READ, "data/k")), XsType.ERROR, "ENOENT\0");
        assertReply(Wire.call(guest, req(XsType.GET_DOMAIN_PATH, "5")), XsType.GET_DOMAIN_PATH, "/local/domain/5\0");
    }

    @Test
    void errorsAreNamesAndMalformedArgumentsAreEinval() {
        assertReply(Wire.call(guest, req(XsType.READ, "/local/domain/2")), XsType.ERROR, "EACCES\0");
        assertReply(Wire.call(guest, new WireMessage(XsType.READ, 7, 0, "data".getBytes(ISO_8859_1))), XsType.ERROR,
                "EINVAL\0");
        assertReply(Wire.call(guest, req(XsType.READ, "a", "b")), XsType.ERROR, "EINVAL\0");
        assertReply(Wire.call(guest, new WireMessage(XsType.WRITE, 7, 0, "no-nul".getBytes(ISO_8859_1))), XsType.ERROR,
                "EINVAL\0");
        assertReply(Wire.call(guest, req(XsType.WATCH, "only-path")), XsType.ERROR, "EINVAL\0");
        assertReply(Wire.call(guest, req(XsType.SET_PERMS, "x")), XsType.ERROR, "EINVAL\0");
        assertReply(Wire.call(guest, req(XsType.GET_DOMAIN_PATH, "one")), XsType.ERROR, "EINVAL\0");
        assertReply(Wire.call(guest, req(XsType.INTRODUCE, "3", "1", "1")), XsType.ERROR, "EACCES\0");
        assertReply(Wire.call(dom0, req(XsType.INTRODUCE, "3", "1", "1")), XsType.ERROR, "ENOSYS\0");
        assertReply(Wire.call(guest, req(20)), XsType.ERROR, "ENOSYS\0");
        assertReply(Wire.call(guest, req(XsType.WATCH_EVENT, "a", "b")), XsType.ERROR, "ENOSYS\0");
        assertReply(Wire.call(guest, req(999)), XsType.ERROR, "ENOSYS\0");
    }

    @Test
    void transactionsOverTheWire() {
        WireMessage start = Wire.call(guest, req(XsType.TRANSACTION_START, ""));
        assertEquals(XsType.TRANSACTION_START, start.type());
        int tx = Integer.parseInt(start.strings().get(0));
        assertTrue(tx != 0);
        WireMessage write = new WireMessage(XsType.WRITE, 7, tx, "t\0in tx".getBytes(ISO_8859_1));
        assertReply(Wire.call(guest, write), XsType.WRITE, "OK\0");
        assertEquals(tx, Wire.call(guest, write).txId(), "tx_id echoed");
        assertReply(Wire.call(guest, req(XsType.READ, "t")), XsType.ERROR, "ENOENT\0");
        assertReply(Wire.call(guest, WireMessage.of(XsType.TRANSACTION_START, 7, tx, "")), XsType.ERROR, "EBUSY\0");
        assertReply(Wire.call(guest, WireMessage.of(XsType.TRANSACTION_END, 7, tx, "X")), XsType.ERROR, "EINVAL\0");
        assertReply(Wire.call(guest, WireMessage.of(XsType.TRANSACTION_END, 7, tx, "T")), XsType.TRANSACTION_END, "OK\0");
        assertReply(Wire.call(guest, req(XsType.READ, "t")), XsType.READ, "in tx");
        assertReply(Wire.call(guest, WireMessage.of(XsType.TRANSACTION_END, 7, tx, "T")), XsType.ERROR, "ENOENT\0");
    }

    @Test
    void watchAnswersOkThenFiresOnceThenOnChanges() {
        Wire.feed(guest, req(XsType.WATCH, "device", "tok").encode());
        List<WireMessage> out = Wire.drain(guest);
        assertEquals(2, out.size());
        assertReply(out.get(0), XsType.WATCH, "OK\0");
        assertEquals(XsType.WATCH_EVENT, out.get(1).type());
        assertEquals(List.of("device", "tok"), out.get(1).strings());
        Wire.call(dom0, req(XsType.MKDIR, "/local/domain/1/device/vbd"));
        List<WireMessage> events = Wire.drain(guest);
        assertEquals(1, events.size());
        assertEquals(List.of("device/vbd", "tok"), events.get(0).strings(), "relative, as registered");
        assertReply(Wire.call(guest, req(XsType.RESET_WATCHES, "")), XsType.RESET_WATCHES, "OK\0");
        Wire.call(dom0, req(XsType.MKDIR, "/local/domain/1/device/vif"));
        assertEquals(List.of(), Wire.drain(guest));
    }

    @Test
    void directoryTooLargeIsE2bigAndDirectoryPartPagesIt() {
        for (int i = 0; i < 300; i++) {
            Wire.call(dom0, req(XsType.MKDIR, "/big/child-with-a-long-name-" + i));
        }
        assertReply(Wire.call(dom0, req(XsType.DIRECTORY, "/big")), XsType.ERROR, "E2BIG\0");
        StringBuilder names = new StringBuilder();
        int offset = 0;
        for (int parts = 0; parts < 10; parts++) {
            WireMessage part = Wire.call(dom0, req(XsType.DIRECTORY_PART, "/big", Integer.toString(offset)));
            assertEquals(XsType.DIRECTORY_PART, part.type());
            byte[] p = part.payload();
            int afterGen = part.text().indexOf('\0') + 1;
            String chunk = new String(p, afterGen, p.length - afterGen, ISO_8859_1);
            if (chunk.endsWith("\0\0") || chunk.equals("\0")) {
                names.append(chunk, 0, chunk.length() - 1);
                break;
            }
            names.append(chunk);
            offset += chunk.length();
        }
        assertEquals(300, names.toString().split("\0").length);
        assertTrue(names.toString().contains("\0child-with-a-long-name-299\0"));
    }

    @Test
    void anOversizedHeaderBreaksTheConnectionAndNothingElse() {
        Wire.call(guest, req(XsType.WATCH, "x", "t"));
        ByteBuffer header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(XsType.READ).putInt(1).putInt(0).putInt(WireMessage.PAYLOAD_MAX + 1);
        Wire.feed(guest, header.array());
        assertTrue(guest.broken());
        assertFalse(guest.hasOutput());
        assertEquals(0, guest.wanted());
        assertEquals(0, store.watchCount(), "its watches went with it");
        assertReply(Wire.call(dom0, req(XsType.READ, "/local/domain/1")), XsType.READ, "");
    }

    @Test
    void aMaximalWriteIsAccepted() {
        byte[] payload = new byte[WireMessage.PAYLOAD_MAX];
        byte[] path = "/big\0".getBytes(ISO_8859_1);
        System.arraycopy(path, 0, payload, 0, path.length);
        assertReply(Wire.call(dom0, new WireMessage(XsType.WRITE, 7, 0, payload)), XsType.WRITE, "OK\0");
        assertEquals(WireMessage.PAYLOAD_MAX - path.length, Wire.call(dom0, req(XsType.READ, "/big")).payload().length);
        assertArrayEquals(new byte[0], Wire.call(guest, req(XsType.READ, "/local/domain/1")).payload());
    }

    @Test
    void eventsBeyondTheQueueAreDroppedAndCounted() {
        Store small = new Store(new Quotas(1000, 2048, 128, 10, 1024, 5, 4));
        small.introduceDomain(1);
        Connection c = new Connection(small, 1);
        Wire.call(c, req(XsType.WATCH, "w", "t"));
        for (int i = 0; i < 10; i++) {
            small.write(1, 0, "w/" + i, new byte[0]);
        }
        assertEquals(4, Wire.drain(c).size());
        assertEquals(6, c.droppedEvents());
    }

    @Test
    void anEventTooLargeForAMessageIsDroppedNotThrownAtTheWriter() {
        String token = "t".repeat(WireMessage.PAYLOAD_MAX - 10);
        Wire.feed(dom0, req(XsType.WATCH, "/a", token).encode());
        assertReply(Wire.drain(dom0).get(0), XsType.WATCH, "OK\0");
        assertReply(Wire.call(guest, req(XsType.GET_DOMAIN_PATH, "1")), XsType.GET_DOMAIN_PATH, "/local/domain/1\0");
        assertReply(Wire.call(dom0, req(XsType.MKDIR, "/a/" + "d".repeat(100))), XsType.MKDIR, "OK\0");
        assertEquals(List.of(), Wire.drain(dom0));
        assertEquals(1, dom0.droppedEvents());
    }
}

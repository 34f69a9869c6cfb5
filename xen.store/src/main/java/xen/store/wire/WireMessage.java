package xen.store.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import xen.store.tree.Quotas;

/**
 * One message: {@code struct xsd_sockmsg} (u32 type, req_id, tx_id, len, in the guest's byte order,
 * little endian on x86) and its payload of at most XENSTORE_PAYLOAD_MAX bytes. Strings on the wire
 * are bytes; they are read as ISO-8859-1 so that any byte comes back unchanged.
 */
public record WireMessage(int type, int reqId, int txId, byte[] payload) {
    public static final int HEADER = 16;
    public static final int PAYLOAD_MAX = Quotas.PAYLOAD_MAX;

    public WireMessage {
        if (payload.length > PAYLOAD_MAX) {
            throw new IllegalArgumentException("payload of " + payload.length + " bytes, at most " + PAYLOAD_MAX);
        }
    }

    /** A message whose payload is {@code strings}, each followed by a NUL. */
    public static WireMessage of(int type, int reqId, int txId, String... strings) {
        StringBuilder s = new StringBuilder();
        for (String string : strings) {
            s.append(string).append('\0');
        }
        return new WireMessage(type, reqId, txId, s.toString().getBytes(StandardCharsets.ISO_8859_1));
    }

    /** The header's and payload's bytes. */
    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(HEADER + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type).putInt(reqId).putInt(txId).putInt(payload.length).put(payload);
        return b.array();
    }

    /** Decodes one whole message; null if the bytes are not exactly a header and the payload it announces. */
    public static WireMessage decode(byte[] bytes) {
        if (bytes.length < HEADER) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.getInt();
        int reqId = b.getInt();
        int txId = b.getInt();
        int len = b.getInt();
        if (len < 0 || len > PAYLOAD_MAX || bytes.length != HEADER + len) {
            return null;
        }
        byte[] payload = new byte[len];
        b.get(payload);
        return new WireMessage(type, reqId, txId, payload);
    }

    /**
     * The payload as NUL-terminated strings, or null if it does not end with a NUL (xenstored's
     * get_strings; an empty payload is no string).
     */
    public List<String> strings() {
        if (payload.length == 0) {
            return List.of();
        }
        if (payload[payload.length - 1] != 0) {
            return null;
        }
        List<String> strings = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < payload.length; i++) {
            if (payload[i] == 0) {
                strings.add(new String(payload, start, i - start, StandardCharsets.ISO_8859_1));
                start = i + 1;
            }
        }
        return strings;
    }

    /** The payload as text, for an error's name or a reply's value. */
    public String text() {
        return new String(payload, StandardCharsets.ISO_8859_1);
    }
}

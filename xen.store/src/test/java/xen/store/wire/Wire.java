package xen.store.wire;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/** Test helpers: a connection's whole output as messages, and a request sent and answered. */
final class Wire {
    private Wire() {
    }

    /** Feeds every byte the connection takes; returns how many it took. */
    static int feed(Connection c, byte[] bytes) {
        return feed(c, bytes, null);
    }

    /** Feeds every byte the connection takes, draining replies that must go first into {@code out}. */
    static int feed(Connection c, byte[] bytes, List<WireMessage> out) {
        int off = 0;
        while (off < bytes.length) {
            int n = c.accept(bytes, off, bytes.length - off);
            if (n == 0) {
                if (!c.hasOutput()) {
                    break;
                }
                drainInto(c, new ByteArrayOutputStream(), out);
            }
            off += n;
        }
        return off;
    }

    /** Every complete message the connection has to give. */
    static List<WireMessage> drain(Connection c) {
        List<WireMessage> messages = new ArrayList<>();
        drainInto(c, new ByteArrayOutputStream(), messages);
        return messages;
    }

    private static void drainInto(Connection c, ByteArrayOutputStream bytes, List<WireMessage> messages) {
        byte[] chunk = new byte[97]; // an odd size: messages cross chunk borders
        int n;
        while ((n = c.produce(chunk, 0, chunk.length)) > 0) {
            bytes.write(chunk, 0, n);
        }
        byte[] all = bytes.toByteArray();
        int off = 0;
        while (off < all.length) {
            int len = (all[off + 12] & 0xff) | (all[off + 13] & 0xff) << 8 | (all[off + 14] & 0xff) << 16
                    | (all[off + 15] & 0xff) << 24;
            byte[] one = java.util.Arrays.copyOfRange(all, off, off + WireMessage.HEADER + len);
            WireMessage m = WireMessage.decode(one);
            if (m == null) {
                throw new AssertionError("a malformed message out of the connection at byte " + off);
            }
            if (messages != null) {
                messages.add(m);
            }
            off += one.length;
        }
    }

    /** Sends one request and returns the connection's reply (the last message, after any events). */
    static WireMessage call(Connection c, WireMessage request) {
        feed(c, request.encode());
        List<WireMessage> out = drain(c);
        if (out.isEmpty()) {
            throw new AssertionError("no reply to " + request.type());
        }
        return out.get(out.size() - 1);
    }
}

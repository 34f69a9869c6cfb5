package xen.evtchn.impl.console;

import java.nio.charset.StandardCharsets;

/**
 * A console sink that keeps the most recent {@code capacity} bytes in memory and counts the rest:
 * the default sink, and the one tests read. Never holds more than its capacity.
 */
public final class MemoryConsoleSink implements ConsoleSink {
    public static final int DEFAULT_CAPACITY = 64 * 1024;

    private final byte[] ring;
    private long received;

    public MemoryConsoleSink() {
        this(DEFAULT_CAPACITY);
    }

    public MemoryConsoleSink(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        ring = new byte[capacity];
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) {
        int cap = ring.length;
        int skip = Math.max(0, length - cap); // only the last cap bytes of a long write survive
        int at = (int) ((received + skip) % cap);
        int n = length - skip;
        int first = Math.min(n, cap - at);
        System.arraycopy(bytes, offset + skip, ring, at, first);
        System.arraycopy(bytes, offset + skip + first, ring, 0, n - first);
        received += length;
    }

    /** The bytes kept, oldest first: the last min(received, capacity) bytes written. */
    public synchronized byte[] bytes() {
        int cap = ring.length;
        int n = (int) Math.min(received, cap);
        byte[] out = new byte[n];
        int start = (int) ((received - n) % cap);
        int first = Math.min(n, cap - start);
        System.arraycopy(ring, start, out, 0, first);
        System.arraycopy(ring, 0, out, first, n - first);
        return out;
    }

    /** {@link #bytes()} as text, one char per byte. */
    public String text() {
        return new String(bytes(), StandardCharsets.ISO_8859_1);
    }

    /** Bytes written to this sink in all. */
    public synchronized long received() {
        return received;
    }

    public int capacity() {
        return ring.length;
    }
}

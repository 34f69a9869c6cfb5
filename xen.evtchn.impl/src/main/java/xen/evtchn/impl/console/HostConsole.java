package xen.evtchn.impl.console;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import xen.evtchn.api.host.GuestConsole;

/**
 * A domain's {@link GuestConsole}: output goes to the booter's lines, to a history of the last
 * {@link #HISTORY} bytes and to attached streams, all under one lock so that an attach sees every
 * byte once (replayed or live); typed input waits in a bounded queue. Also the sink of the
 * domain's CONSOLEIO_write, so both of the guest's ways of printing meet here in order.
 */
public final class HostConsole implements GuestConsole, ConsoleSink {
    private final ConsoleSink lines;
    private final Object output = new Object();
    private final MemoryConsoleSink history = new MemoryConsoleSink(HISTORY);
    private final List<OutputStream> attached = new CopyOnWriteArrayList<>();
    private final byte[] input = new byte[INPUT_CAPACITY];
    /** Input queue: bytes [taken, typed) of the stream typed so far, kept modulo the array. */
    private long typed;
    private long taken;

    public HostConsole(ConsoleSink lines) {
        this.lines = Objects.requireNonNull(lines, "lines");
    }

    @Override
    public void printed(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        synchronized (output) {
            lines.write(bytes, offset, length);
            history.write(bytes, offset, length);
            for (OutputStream raw : attached) {
                try {
                    raw.write(bytes, offset, length);
                    raw.flush();
                } catch (IOException e) {
                    attached.remove(raw); // that terminal is gone; the guest's console goes on
                }
            }
        }
    }

    /** CONSOLEIO_write's output, after its rate limit. */
    @Override
    public void write(byte[] bytes, int offset, int length) {
        printed(bytes, offset, length);
    }

    @Override
    public AutoCloseable attach(OutputStream raw) {
        Objects.requireNonNull(raw, "raw");
        synchronized (output) {
            try {
                raw.write(history.bytes());
                raw.flush();
            } catch (IOException e) {
                return () -> {
                };
            }
            attached.add(raw);
        }
        return () -> attached.remove(raw);
    }

    @Override
    public synchronized int type(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        int n = (int) Math.min(length, input.length - (typed - taken));
        for (int i = 0; i < n; i++) {
            input[(int) (typed++ % input.length)] = bytes[offset + i];
        }
        return n;
    }

    @Override
    public synchronized int takeInput(byte[] into, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, into.length);
        int n = (int) Math.min(length, typed - taken);
        for (int i = 0; i < n; i++) {
            into[offset + i] = input[(int) (taken++ % input.length)];
        }
        return n;
    }

    @Override
    public synchronized int inputQueued() {
        return (int) (typed - taken);
    }
}

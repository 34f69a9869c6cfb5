package reference.guest;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Console mode ({@link GuestConfig#consoleLines}), on vCPU 0: numbered lines printed on the PV
 * console ring a few each tick, every line typed to the guest echoed back, the console port
 * kicked whenever either ring moved, as hvc_xen does. Output waits in a queue while the ring is
 * full; the queue takes no new numbered lines beyond {@link #MAX_QUEUED} bytes, so a guest whose
 * console nobody reads holds little.
 */
final class ConsoleWorkload {
    /** How long the guest waits at its end for the backend to take what is left, in guest ns. */
    static final long DRAIN_NS = 10_000_000_000L;
    static final int MAX_QUEUED = 64 << 10;
    /** A typed line longer than this is echoed in pieces. */
    static final int MAX_LINE = 256;

    private final ConsoleRingDriver ring;
    private final int port;
    private final int lines;
    private final int perTick;
    private final ByteArrayOutputStream typedLine = new ByteArrayOutputStream();
    private final byte[] readBuffer = new byte[1024];
    private byte[] queued = new byte[0];
    private int queuedFrom;
    private int printed;
    private long echoed;
    private long drainDeadline = -1;

    ConsoleWorkload(ConsoleRingDriver ring, int port, GuestConfig config) {
        this.ring = ring;
        this.port = port;
        this.lines = config.consoleLines();
        this.perTick = config.consoleLinesPerTick();
    }

    int port() {
        return port;
    }

    /** A tick: the next few lines, then as much output as the ring takes. */
    void tick(Hypervisor h) {
        StringBuilder next = new StringBuilder();
        for (int i = 0; i < perTick && printed < lines && queued.length - queuedFrom < MAX_QUEUED; i++) {
            printed++;
            next.append("line ").append(printed).append(" of ").append(lines).append('\n');
        }
        queue(next.toString());
        flush(h);
    }

    /** An event on the console port: typed input is taken and echoed line by line. */
    void onEvent(Hypervisor h) {
        int n;
        boolean read = false;
        while ((n = ring.read(readBuffer)) > 0) {
            read = true;
            for (int i = 0; i < n; i++) {
                byte c = readBuffer[i];
                if (c == '\n' || c == '\r' || typedLine.size() >= MAX_LINE) {
                    queue("echo " + typedLine.toString(StandardCharsets.US_ASCII) + "\n");
                    typedLine.reset();
                    echoed++;
                }
                if (c != '\n' && c != '\r') {
                    typedLine.write(c);
                }
            }
        }
        if (read) {
            h.send(port); // room in the input ring again
        }
        flush(h);
    }

    /**
     * At the end: prints what is left; true once the backend has taken everything, or once
     * {@link #DRAIN_NS} of guest time have passed since the first call (nobody reads the console).
     */
    boolean finish(Hypervisor h, long now) {
        if (drainDeadline < 0) {
            drainDeadline = now + DRAIN_NS;
        }
        while (printed < lines && queued.length - queuedFrom < MAX_QUEUED) {
            tick(h);
        }
        flush(h);
        return (printed == lines && queuedFrom == queued.length && ring.drained()) || now - drainDeadline > 0;
    }

    String summary() {
        int left = queued.length - queuedFrom;
        return "reference guest: console: " + printed + " of " + lines + " lines printed, " + echoed + " typed lines echoed"
                + (left > 0 || !ring.drained() ? ", output left that the console backend did not take" : "") + "\n";
    }

    private void queue(String text) {
        if (text.isEmpty()) {
            return;
        }
        byte[] add = text.getBytes(StandardCharsets.US_ASCII);
        byte[] next = new byte[queued.length - queuedFrom + add.length];
        System.arraycopy(queued, queuedFrom, next, 0, queued.length - queuedFrom);
        System.arraycopy(add, 0, next, queued.length - queuedFrom, add.length);
        queued = next;
        queuedFrom = 0;
    }

    private void flush(Hypervisor h) {
        if (queuedFrom == queued.length) {
            return;
        }
        int n = ring.write(queued, queuedFrom, queued.length - queuedFrom);
        queuedFrom += n;
        if (n > 0) {
            h.send(port);
        }
    }
}

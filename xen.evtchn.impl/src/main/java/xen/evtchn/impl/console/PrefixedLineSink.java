package xen.evtchn.impl.console;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import xen.evtchn.impl.domain.Domain;

/**
 * A console sink for a host terminal or log: every line starts with a prefix such as "[dom1] ",
 * and, as Xen does with a guest's console output, only printable ASCII, tab and newline pass
 * (escape sequences and other control bytes from the guest are dropped).
 */
public final class PrefixedLineSink implements ConsoleSink {
    private final OutputStream out;
    private final byte[] prefix;
    private final ByteArrayOutputStream staging = new ByteArrayOutputStream();
    private boolean lineStart = true;
    private long failedWrites;

    public PrefixedLineSink(OutputStream out, String prefix) {
        this.out = Objects.requireNonNull(out, "out");
        this.prefix = prefix.getBytes(StandardCharsets.US_ASCII);
    }

    /** Domain {@code domid}'s output on standard output, each line prefixed "[dom<i>N</i>] ". */
    public static PrefixedLineSink stdout(int domid) {
        return new PrefixedLineSink(System.out, "[dom" + domid + "] ");
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) {
        staging.reset();
        for (int i = offset; i < offset + length; i++) {
            int c = bytes[i] & 0xFF;
            boolean newline = c == '\n';
            if (!newline && c != '\t' && (c < 0x20 || c > 0x7E)) {
                continue;
            }
            if (lineStart) {
                staging.writeBytes(prefix);
                lineStart = false;
            }
            staging.write(c);
            lineStart = newline;
        }
        try {
            staging.writeTo(out);
            out.flush();
        } catch (IOException e) {
            failedWrites++; // the host's stream is gone: the guest's output is dropped, the guest runs on
        }
    }

    /** Writes that the output stream refused. */
    public synchronized long failedWrites() {
        return failedWrites;
    }
}

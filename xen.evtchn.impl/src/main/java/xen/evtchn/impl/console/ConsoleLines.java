package xen.evtchn.impl.console;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Splits a console's byte stream into lines for a {@code Consumer<String>}: each newline ends a
 * line (passed without it), a line of {@code maxLine} bytes is passed as it is and the rest of
 * it follows as further lines, so a guest that never writes a newline costs at most
 * {@code maxLine} bytes of host memory. Bytes are taken as ASCII: put it behind a
 * {@link xen.evtchn.impl.hypercall.PrefixedLineSink}, which lets only printable ASCII, tab and
 * newline through. A consumer that throws loses that line (counted), never the guest's write.
 */
public final class ConsoleLines extends OutputStream {
    private final Consumer<String> lines;
    private final int maxLine;
    private final ByteArrayOutputStream line;
    private long failedLines;

    public ConsoleLines(Consumer<String> lines, int maxLine) {
        if (maxLine < 1) {
            throw new IllegalArgumentException("maxLine must be at least 1: got " + maxLine);
        }
        this.lines = Objects.requireNonNull(lines, "lines");
        this.maxLine = maxLine;
        this.line = new ByteArrayOutputStream(Math.min(maxLine, 256));
    }

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            emit();
            return;
        }
        line.write(b);
        if (line.size() >= maxLine) {
            emit();
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        Objects.checkFromIndexSize(off, len, b.length);
        for (int i = off; i < off + len; i++) {
            write(b[i]);
        }
    }

    /** Lines the consumer threw on. */
    public synchronized long failedLines() {
        return failedLines;
    }

    private void emit() {
        String text = line.toString(StandardCharsets.US_ASCII);
        line.reset();
        try {
            lines.accept(text);
        } catch (RuntimeException e) {
            failedLines++;
        }
    }
}

package xen.evtchn.impl.console;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A domain's CONSOLEIO_write output: rate limited by a token bucket, copied to the sink in
 * chunks through one reused buffer. What the bucket does not allow is dropped and counted; a
 * flooding guest costs the host neither memory nor unbounded output, and its vCPU never waits
 * for tokens.
 */
public final class DomainConsole {
    /** Bytes copied out of guest memory at a time. */
    public static final int CHUNK = 1024;

    private final ConsoleSink sink;
    private final TokenBucket bucket;
    private final DeviceConsoles devices;
    private final byte[] chunk = new byte[CHUNK];
    private long written;
    private long dropped;

    /** A console whose xen-bus consoles' lines are dropped (tests, tools). */
    public DomainConsole(ConsoleSink sink, TokenBucket bucket) {
        this(sink, bucket, new DeviceConsoles(line -> { }, 256));
    }

    public DomainConsole(ConsoleSink sink, TokenBucket bucket, DeviceConsoles devices) {
        this.sink = Objects.requireNonNull(sink, "sink");
        this.bucket = Objects.requireNonNull(bucket, "bucket");
        this.devices = Objects.requireNonNull(devices, "devices");
    }

    /** Output kept in a {@link MemoryConsoleSink} of the default capacity, at the default rate. */
    public static DomainConsole inMemory() {
        return new DomainConsole(new MemoryConsoleSink(), TokenBucket.defaults());
    }

    /** Writes what the rate limit allows of {@code bytes} (guest memory) to the sink; drops the rest. */
    public synchronized void write(MemorySegment bytes) {
        long n = bytes.byteSize();
        long granted = bucket.take(n);
        dropped += n - granted;
        for (long off = 0; off < granted; off += CHUNK) {
            int len = (int) Math.min(CHUNK, granted - off);
            MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, off, chunk, 0, len);
            sink.write(chunk, 0, len);
        }
        written += granted;
    }

    public ConsoleSink sink() {
        return sink;
    }

    /** The domain's xen-bus consoles (device/console/N). */
    public DeviceConsoles devices() {
        return devices;
    }

    public TokenBucket bucket() {
        return bucket;
    }

    /** Bytes passed to the sink. */
    public synchronized long written() {
        return written;
    }

    /** Bytes the guest wrote that the rate limit dropped. */
    public synchronized long dropped() {
        return dropped;
    }
}

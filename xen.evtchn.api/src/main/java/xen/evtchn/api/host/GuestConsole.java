package xen.evtchn.api.host;

import java.io.OutputStream;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The host's end of a domain's console, what xenconsoled keeps for each domain. What the guest
 * prints arrives here, from its console backend (the ring at HVM_PARAM_CONSOLE_PFN) and from
 * CONSOLEIO_write; what is typed for the guest waits here until a backend moves it into the ring.
 * It lives as long as the domain, so a console backend can be swapped under a guest that prints
 * and reads without a byte lost or doubled: a backend takes input only as far as the ring has
 * room, and hands output over only once it has taken it from the ring. Thread-safe.
 *
 * @since 1.3
 */
@ProviderType
public interface GuestConsole {
    /** Bytes of typed input held for the guest at most. */
    int INPUT_CAPACITY = 64 << 10;
    /** Bytes of output kept for {@link #attach} to replay. */
    int HISTORY = 64 << 10;

    /**
     * The guest printed these bytes (in order, each once). They go to the domain's console lines
     * (printable ASCII, each line prefixed by the booter) and, as they are, to every attached
     * stream. Blocks while an attached stream does: a slow terminal slows the guest's console,
     * it costs no memory.
     */
    void printed(byte[] bytes, int offset, int length);

    /**
     * Queues bytes typed for the guest; returns how many were taken: fewer than {@code length}
     * when the queue is full ({@link #INPUT_CAPACITY}), so a caller that retries loses nothing.
     */
    int type(byte[] bytes, int offset, int length);

    /** Moves up to {@code length} bytes of queued input into {@code into}; how many, 0 if none. */
    int takeInput(byte[] into, int offset, int length);

    /** Bytes of input queued now. */
    int inputQueued();

    /**
     * Writes the output kept so far (the last {@link #HISTORY} bytes) to {@code raw}, then every
     * byte the guest prints, as it is (escape sequences included, as on a Xen console), until the
     * returned handle is closed or a write to {@code raw} fails.
     */
    AutoCloseable attach(OutputStream raw);
}

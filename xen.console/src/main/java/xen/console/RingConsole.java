package xen.console;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import xen.evtchn.api.abi.ConsoleRing;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.host.GuestConsole;

/**
 * One domain's console ring, served on a thread of its own as xenconsoled serves it: on each
 * event from the guest (and every {@link #POLL_MS} ms, for input typed meanwhile) the guest's
 * output goes to the domain's {@link GuestConsole} and typed input into the ring, as far as it
 * has room; the guest is kicked when either moved.
 * <p>
 * Nothing is lost or doubled across a swap: output is handed over before out_cons moves past it,
 * input is taken from the console only as far as it is written into the ring, and {@link #stop()}
 * returns only once the thread has finished its pass. The guest owns the indices it produces and
 * could write anything there: a ring whose indices claim more than its size is reset (its
 * contents dropped) and reported once, never read out of bounds.
 */
final class RingConsole {
    /** How often input typed while the guest is quiet is looked for. */
    static final int POLL_MS = 10;
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    private final int domid;
    private final String name;
    private final MemorySegment ring;
    private final EvtchnHandle handle;
    private final int port;
    private final GuestConsole console;
    private final Consumer<String> log;
    private final byte[] out = new byte[ConsoleRing.OUT_SIZE];
    private final byte[] in = new byte[ConsoleRing.IN_SIZE];
    private final Thread thread;
    private volatile boolean stopping;
    private boolean corruptReported;

    /**
     * @param ring   the ring page (guest memory)
     * @param handle a handle with {@code port} bound to the guest's console port
     */
    RingConsole(int domid, MemorySegment ring, EvtchnHandle handle, int port, GuestConsole console,
            Consumer<String> log) {
        this(domid, "console", ring, handle, port, console, log);
    }

    /** @param name the console's name in the thread's name and messages ("console", "console1") */
    RingConsole(int domid, String name, MemorySegment ring, EvtchnHandle handle, int port, GuestConsole console,
            Consumer<String> log) {
        this.domid = domid;
        this.name = name;
        this.ring = ring;
        this.handle = handle;
        this.port = port;
        this.console = console;
        this.log = log;
        this.thread = Thread.ofPlatform().name("dom" + domid + "-" + name).daemon(true).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    EvtchnHandle handle() {
        return handle;
    }

    /** Ends the thread after its current pass; the ring and the handle are left as they are. */
    void stop() throws InterruptedException {
        stopping = true;
        thread.join();
    }

    private void run() {
        try {
            while (!stopping) {
                int from = handle.pending(POLL_MS, TimeUnit.MILLISECONDS);
                if (serve()) {
                    handle.notify(port);
                }
                if (from >= 0) {
                    handle.unmask(from); // after the pass: a kick that came meanwhile is delivered again
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (EvtchnException e) {
            // the guest closed its port: nothing more to serve, and worth a word
            if (!stopping) {
                log.accept("dom" + domid + ": " + name + " stopped: " + e.getMessage());
            }
        } catch (IllegalStateException e) {
            // Its memory is gone: the domain went while this backend was leaving (its listener
            // already unbound, so it heard of no destruction). Nothing more to serve, nothing wrong.
        }
    }

    /** One pass over both rings; whether anything moved. */
    boolean serve() {
        return drainOutput() | fillInput();
    }

    private boolean drainOutput() {
        int cons = (int) U32.getAcquire(ring, (long) ConsoleRing.OUT_CONS);
        int prod = (int) U32.getAcquire(ring, (long) ConsoleRing.OUT_PROD);
        int n = prod - cons;
        if (Integer.compareUnsigned(n, ConsoleRing.OUT_SIZE) > 0) {
            corrupt("out", prod, cons);
            U32.setRelease(ring, (long) ConsoleRing.OUT_CONS, prod);
            return true;
        }
        if (n == 0) {
            return false;
        }
        copyOut(cons, n);
        console.printed(out, 0, n);
        U32.setRelease(ring, (long) ConsoleRing.OUT_CONS, prod);
        return true;
    }

    private void copyOut(int cons, int n) {
        int at = cons & (ConsoleRing.OUT_SIZE - 1);
        int first = Math.min(n, ConsoleRing.OUT_SIZE - at);
        MemorySegment.copy(ring, ValueLayout.JAVA_BYTE, ConsoleRing.OUT + at, out, 0, first);
        MemorySegment.copy(ring, ValueLayout.JAVA_BYTE, ConsoleRing.OUT, out, first, n - first);
    }

    private boolean fillInput() {
        if (console.inputQueued() == 0) {
            return false;
        }
        int cons = (int) U32.getAcquire(ring, (long) ConsoleRing.IN_CONS);
        int prod = (int) U32.getAcquire(ring, (long) ConsoleRing.IN_PROD);
        int used = prod - cons;
        if (Integer.compareUnsigned(used, ConsoleRing.IN_SIZE) > 0) {
            corrupt("in", prod, cons);
            U32.setRelease(ring, (long) ConsoleRing.IN_PROD, cons);
            return true;
        }
        int n = console.takeInput(in, 0, ConsoleRing.IN_SIZE - used);
        if (n == 0) {
            return false;
        }
        int at = prod & (ConsoleRing.IN_SIZE - 1);
        int first = Math.min(n, ConsoleRing.IN_SIZE - at);
        MemorySegment.copy(in, 0, ring, ValueLayout.JAVA_BYTE, ConsoleRing.IN + at, first);
        MemorySegment.copy(in, first, ring, ValueLayout.JAVA_BYTE, ConsoleRing.IN, n - first);
        U32.setRelease(ring, (long) ConsoleRing.IN_PROD, prod + n);
        return true;
    }

    private void corrupt(String which, int prod, int cons) {
        if (!corruptReported) {
            corruptReported = true;
            log.accept("dom" + domid + ": " + name + " ring indices corrupt (" + which + "_prod " + Integer.toUnsignedString(prod)
                    + ", " + which + "_cons " + Integer.toUnsignedString(cons) + "): its contents dropped"
                    + " (reported once)");
        }
    }
}

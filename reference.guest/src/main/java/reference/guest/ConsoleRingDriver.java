package reference.guest;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import xen.evtchn.api.abi.ConsoleRing;

/**
 * The guest's side of its PV console ring, as Linux's hvc_xen drives it: output is copied into
 * {@code out} as far as there is room and then published with out_prod; input is read from
 * {@code in} and consumed with in_cons. The caller kicks the console port after either moved.
 */
final class ConsoleRingDriver {
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment ring;

    ConsoleRingDriver(MemorySegment ring) {
        this.ring = ring;
    }

    /** Copies as much of {@code b[off, off+len)} as fits into {@code out}; how many bytes. */
    int write(byte[] b, int off, int len) {
        int cons = (int) U32.getAcquire(ring, (long) ConsoleRing.OUT_CONS);
        int prod = (int) U32.getAcquire(ring, (long) ConsoleRing.OUT_PROD);
        int room = ConsoleRing.OUT_SIZE - (prod - cons);
        int n = Math.min(len, room);
        for (int i = 0; i < n; i++) {
            ring.set(ValueLayout.JAVA_BYTE, ConsoleRing.OUT + ((prod + i) & (ConsoleRing.OUT_SIZE - 1)), b[off + i]);
        }
        U32.setRelease(ring, (long) ConsoleRing.OUT_PROD, prod + n);
        return n;
    }

    /** Moves up to {@code into.length} bytes of input out of {@code in}; how many. */
    int read(byte[] into) {
        int cons = (int) U32.getAcquire(ring, (long) ConsoleRing.IN_CONS);
        int prod = (int) U32.getAcquire(ring, (long) ConsoleRing.IN_PROD);
        int n = Math.min(into.length, prod - cons);
        for (int i = 0; i < n; i++) {
            into[i] = ring.get(ValueLayout.JAVA_BYTE, ConsoleRing.IN + ((cons + i) & (ConsoleRing.IN_SIZE - 1)));
        }
        U32.setRelease(ring, (long) ConsoleRing.IN_CONS, cons + n);
        return n;
    }

    /** Whether the backend has taken everything written. */
    boolean drained() {
        return (int) U32.getAcquire(ring, (long) ConsoleRing.OUT_CONS) == (int) U32.getAcquire(ring, (long) ConsoleRing.OUT_PROD);
    }
}

package xen.evtchn.api;

import java.lang.foreign.MemorySegment;

/**
 * One hypercall as a backend hands it over: who made it, its arguments, and access to the
 * caller's memory at the addresses it passed.
 */
public interface HypercallContext {
    /** The hypercall number (rax at the call). */
    int number();

    int domid();

    int vcpu();

    /** True when the caller runs in 64-bit mode (arguments in rdi, rsi, rdx, r10, r8). */
    boolean longMode();

    /** The caller's privilege level; hypercalls from CPL &gt; 0 get -EPERM. */
    int cpl();

    /**
     * Whether the caller had interrupts enabled (RFLAGS.IF) when it made the call. SCHEDOP_poll
     * uses it as Xen does for HVM guests: an upcall already pending ends the poll at once only if
     * the vCPU could take it. Backends that do not track IF keep this default, true.
     */
    default boolean interruptsEnabled() {
        return true;
    }

    /** Argument {@code index} (0..4), zero-extended from 32 bits for a 32-bit caller. */
    long arg(int index);

    /**
     * The {@code length} bytes the caller sees at virtual address {@code address}, as a view of its
     * memory, or null if any byte of them is not mapped (the hypercall then answers -EFAULT). A
     * backend may answer a range whose pages are scattered in guest memory with a copy, written
     * back (the bytes the handler changed) when the hypercall returns, as Xen's copy_from_guest /
     * copy_to_guest: valid for this hypercall only, and not for atomics shared with the guest.
     */
    MemorySegment guest(long address, long length);
}

package kvm.provider.xen;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import kvm.provider.boot.AcpiTables;
import kvm.provider.kvm.KvmExit;
import kvm.provider.kvm.KvmVcpu;
import xen.evtchn.api.HypercallHandler;

/**
 * The exit loop of one vCPU, on its own platform thread: KVM_RUN, then the exit: hypercalls (I/O
 * on {@link HypercallPage#PORT}, or a debug exit at a {@link HypercallSites} breakpoint), the
 * hypercall-page MSR, the debug console, the ACPI sleep and reset registers, other port and MMIO
 * accesses (writes ignored, reads all ones, as on an empty bus), HLT, kicks; a triple fault,
 * entry failure, internal error or unknown exit crashes the domain with rip and reason.
 *
 * <p>Without an in-kernel irqchip the upcall vector is latched here and injected with
 * KVM_INTERRUPT when kvm_run says the guest can take it, else an interrupt window is requested.
 * Another thread latching a vector wakes the vCPU: a signal if it is in (or about to enter)
 * KVM_RUN, an unpark if it is halted. Both sides write their own flag before reading the other's,
 * so one of them always sees the other.
 */
final class VcpuRunner implements Runnable {
    private static final int NONE = -1;
    private static final int IN_HOST = 0, IN_GUEST = 1, HALTED = 2;
    private static final long IA32_TSC = 0x10;

    private final KvmBackend backend;
    private final KvmVcpu vcpu;
    private final HypercallHandler hypercalls;
    private final VcpuKick kick = new VcpuKick();
    private final AtomicInteger latchedVector = new AtomicInteger(NONE);
    private final StringBuilder debugLine = new StringBuilder();
    private volatile int state = IN_HOST;
    private volatile boolean stop;
    private volatile Thread thread;
    private boolean refusedCplReported;
    private boolean strayDebugReported;

    VcpuRunner(KvmBackend backend, KvmVcpu vcpu) {
        this.backend = backend;
        this.vcpu = vcpu;
        HypercallHandler handler = backend.hypercalls();
        this.hypercalls = call -> {
            long result = handler.hypercall(call);
            if (call.cpl() != 0 && !refusedCplReported) {
                refusedCplReported = true;
                backend.log("vcpu" + vcpu.id() + ": hypercall " + call.number() + " from CPL " + call.cpl()
                        + " answered " + result + " (reported once per vCPU)");
            }
            return result;
        };
    }

    int id() {
        return vcpu.id();
    }

    void start(String name) {
        Thread t = Thread.ofPlatform().name(name).daemon().unstarted(this);
        thread = t;
        t.start();
    }

    Thread thread() {
        return thread;
    }

    @Override
    public void run() {
        try {
            kick.install(vcpu);
            if (backend.syncRegs()) {
                vcpu.enableSyncRegs();
            }
            while (!stop) {
                state = IN_GUEST;
                injectLatched();
                backend.retryOwed(vcpu.id(), false);
                if (stop) {
                    break;
                }
                KvmExit exit = vcpu.run();
                state = IN_HOST;
                if (!handle(exit)) {
                    break;
                }
            }
        } catch (RuntimeException | Error e) {
            state = IN_HOST; // out of KVM_RUN: the stop that follows must not signal this thread
            backend.crash(vcpu.id(), "host error on this vCPU: " + e, e);
        } finally {
            state = IN_HOST;
            kick.uninstall();
            backend.vcpuEnded(vcpu.id());
        }
    }

    /** Latches {@code vector} for injection and wakes the vCPU. Any thread; never blocks. */
    void deliver(int vector) {
        latchedVector.set(vector);
        if (Thread.currentThread() != thread) {
            wake();
        }
    }

    /** Asks the loop to end at its next exit (a signal gets it out of KVM_RUN, an unpark out of HLT). */
    void requestStop() {
        stop = true;
        wake();
        Thread t = thread;
        if (t != null && state == IN_HOST && t != Thread.currentThread()) {
            t.interrupt(); // blocked or polling inside a hypercall
        }
    }

    private void wake() {
        int s = state;
        if (s == IN_GUEST) {
            kick.kick();
        } else if (s == HALTED) {
            LockSupport.unpark(thread);
        }
    }

    private void injectLatched() {
        int vector = latchedVector.get();
        if (vector == NONE) {
            vcpu.requestInterruptWindow(false);
        } else if (vcpu.readyForInterrupt() && latchedVector.compareAndSet(vector, NONE)) {
            vcpu.interrupt(vector);
            vcpu.requestInterruptWindow(false);
        } else {
            vcpu.requestInterruptWindow(true);
        }
    }

    /** Handles one exit; false if the vCPU stops. */
    private boolean handle(KvmExit exit) {
        switch (exit) {
            case KvmExit.Io io -> io(io);
            case KvmExit.Debug debug -> {
                if (!KvmHypercallExits.handleBreakpoint(vcpu, debug, backend.memory(), backend.domid(), hypercalls,
                        backend.hypercallSites()) && !strayDebugReported) {
                    strayDebugReported = true; // nothing to do but go on: report it once
                    backend.log("vcpu" + vcpu.id() + ": debug exit (exception " + debug.exception() + ") at 0x"
                            + Long.toHexString(debug.pc()) + ", not a hypercall site; resumed (reported once)");
                }
            }
            case KvmExit.Mmio mmio -> {
                if (!mmio.isWrite()) {
                    mmio.data().fill((byte) 0xff);
                }
            }
            case KvmExit.WrMsr msr -> {
                if (!HypercallPage.handleWrmsr(vcpu, msr, backend.ram())) {
                    vcpu.completeMsr(false); // #GP, as for an MSR that does not exist
                }
            }
            case KvmExit.RdMsr msr -> vcpu.completeMsr(false);
            case KvmExit.Hlt hlt -> {
                return halt();
            }
            case KvmExit.IrqWindowOpen window -> {
                // injected on the way back in
            }
            case KvmExit.Interrupted intr -> kick.consume();
            case KvmExit.Shutdown shutdown -> {
                // KVM on AMD reinitialises the vCPU at a shutdown (its VMCB is undefined after one):
                // the registers then hold the reset vector, not where the guest was.
                if (rip() == RESET_RIP) {
                    backend.crash(vcpu.id(), "triple fault (KVM_EXIT_SHUTDOWN), rip not known: this KVM reset the vCPU",
                            null);
                    return false;
                }
                return fault("triple fault (KVM_EXIT_SHUTDOWN)");
            }
            case KvmExit.FailEntry fail -> {
                return fault("KVM_EXIT_FAIL_ENTRY, hardware entry failure reason 0x"
                        + Long.toHexString(fail.hardwareReason()));
            }
            case KvmExit.InternalError error -> {
                return fault("KVM_EXIT_INTERNAL_ERROR: " + error.describe());
            }
            case KvmExit.Other other -> {
                return fault("unexpected exit " + other.name());
            }
        }
        return true;
    }

    private void io(KvmExit.Io io) {
        if (KvmHypercallExits.handle(vcpu, io, backend.memory(), backend.domid(), hypercalls)) {
            return;
        }
        MemorySegment data = io.data();
        if (!io.isOut()) {
            data.fill((byte) 0xff);
            return;
        }
        for (long at = 0; at < data.byteSize(); at += io.size()) {
            long value = switch (io.size()) {
                case 1 -> Byte.toUnsignedLong(data.get(ValueLayout.JAVA_BYTE, at));
                case 2 -> Short.toUnsignedLong(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, at));
                default -> Integer.toUnsignedLong(data.get(ValueLayout.JAVA_INT_UNALIGNED, at));
            };
            out(io.port(), io.size(), value);
        }
    }

    private void out(int port, int size, long value) {
        AcpiTables.PowerRequest power = AcpiTables.request(port, size, value);
        if (power != AcpiTables.PowerRequest.NONE) {
            backend.powerRequest(vcpu.id(), power);
        } else if (port == KvmConfig.DEBUG_CONSOLE_PORT && backend.config().debugConsole() != null) {
            debugConsole((int) (value & 0xff));
        } else if (backend.config().portWrites() != null) {
            backend.config().portWrites().out(vcpu.id(), port, size, value);
        }
    }

    /** A byte to the debug console: printable ASCII and tabs kept, lines at newline or 160 chars. */
    private void debugConsole(int c) {
        if (c == '\n' || debugLine.length() >= 160) {
            backend.config().debugConsole().accept(debugLine.toString());
            debugLine.setLength(0);
        }
        if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
            debugLine.append((char) c);
        }
    }

    /**
     * HLT with interrupts on: waits here for an upcall (or a stop). With interrupts off nothing can
     * ever wake it: the vCPU is down, as on Xen.
     */
    private boolean halt() {
        if (!vcpu.interruptsEnabled()) {
            backend.vcpuDown(vcpu.id(), "halted with interrupts disabled at rip 0x" + Long.toHexString(rip()));
            return false;
        }
        state = HALTED;
        try {
            while (!stop && latchedVector.get() == NONE) {
                LockSupport.park(this);
            }
        } finally {
            state = IN_HOST;
        }
        return !stop;
    }

    /** rip after a CPU reset (with CS base 0xffff0000, the reset vector 0xfffffff0). */
    static final long RESET_RIP = 0xfff0;

    private boolean fault(String what) {
        backend.crash(vcpu.id(), what + " at rip 0x" + Long.toHexString(rip()), null);
        return false;
    }

    private long rip() {
        try {
            return vcpu.syncRegsEnabled() ? vcpu.syncedRegs().rip() : vcpu.getRegs().rip();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** The guest's TSC now, read on this vCPU (an ioctl: for calibration, not the hot path). */
    long readTsc() {
        return vcpu.getMsr((int) IA32_TSC);
    }
}

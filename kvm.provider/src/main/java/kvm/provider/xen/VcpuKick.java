package kvm.provider.xen;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import kvm.provider.kvm.KvmVcpu;
import kvm.provider.os.Signals;

/**
 * Gets a vCPU thread out of KVM_RUN from another thread: the vCPU thread blocks SIGUSR1 and gives
 * KVM an empty signal mask for KVM_RUN, so the signal is taken only inside KVM_RUN, which then
 * returns EINTR ({@code KvmExit.INTERRUPTED}); no handler ever runs. A kick sent while the thread is
 * outside KVM_RUN stays pending and makes the next KVM_RUN return at once: no wake-up is lost.
 * SIGUSR1 is ignored process-wide as well, so that a kick can never take the process down: twice,
 * under a nested KVM (docs/LINUX.md), the JVM died of a SIGUSR1 whose way to an unblocking thread
 * was not found.
 */
final class VcpuKick {
    private static final int PID = Signals.getpid();

    static {
        Signals.ignore(Signals.SIGUSR1);
    }

    private final MemorySegment signalSet = Signals.sigset(Arena.ofAuto(), Signals.SIGUSR1);
    /** The vCPU thread's kernel id while it can take kicks, else 0. */
    private int tid;

    /** On the vCPU thread, before its first KVM_RUN. */
    void install(KvmVcpu vcpu) {
        Signals.block(Signals.SIGUSR1);
        vcpu.unblockAllSignalsInRun();
        synchronized (this) {
            tid = Signals.gettid();
        }
    }

    /** Interrupts the vCPU's KVM_RUN (or the next one). Any thread; a no-op once uninstalled. */
    void kick() {
        // Under the lock: uninstall() cannot return, and the thread id be reused, while a kick is on its way.
        synchronized (this) {
            if (tid != 0) {
                Signals.tgkill(PID, tid, Signals.SIGUSR1);
            }
        }
    }

    /** On the vCPU thread after a {@code KvmExit.INTERRUPTED} exit: takes the kick so it does not fire again. */
    void consume() {
        Signals.consume(signalSet);
    }

    /** On the vCPU thread before it ends: no kick reaches it (or a later thread with its id) any more. */
    synchronized void uninstall() {
        tid = 0;
    }
}

package reference.guest;

import java.time.Duration;
import java.util.Objects;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.HvmOp;

/**
 * What the reference guest does: how many vCPUs it brings up, its tick rate, how long it ticks,
 * whether each vCPU sends an IPI to the next one every {@code ipiEveryTicks} ticks, and the vector
 * it asks upcalls to arrive on (HVM_PARAM_CALLBACK_IRQ, vector type).
 *
 * @param vcpus          vCPUs 0 .. vcpus-1, 1 to {@link GuestMemoryMap#MAX_VCPUS}
 * @param hz             ticks per second, 1 to {@link #MAX_HZ}
 * @param runFor         how long each vCPU ticks (guest system time), at least one tick period,
 *                       at most {@link #MAX_RUN_FOR}
 * @param ipis           whether vCPU n sends an IPI to vCPU (n+1) mod vcpus (itself if alone)
 * @param ipiEveryTicks  one IPI every so many ticks, at least 1 (checked even when IPIs are off)
 * @param callbackVector the upcall vector, {@link HvmOp#MIN_UPCALL_VECTOR} to 255
 * @param fifoPorts      0: the 2-level ABI. Else the FIFO ABI, with this many more ports bound
 *                       (IPIs, spread over the vCPUs, priorities 0..15 in turn); every tick, each
 *                       vCPU sends a batch of {@link #FIFO_BATCH} of its own, in turn, with
 *                       interrupts off, and checks that it consumes each once, the higher
 *                       priorities first. At least 8 batches a vCPU (so that a port's turn
 *                       comes again only long after its event), at most {@link #MAX_FIFO_PORTS}.
 * @param consoleLines   0: the guest prints with CONSOLEIO_write only. Else it also drives its
 *                       PV console ring as Linux's hvc_xen does: vCPU 0 prints this many
 *                       numbered lines there, spread over its ticks ("line N of M"), echoes
 *                       every line typed to it ("echo TEXT"), and powers off only once the
 *                       host's console backend has taken all of it (at most {@link #MAX_CONSOLE_LINES})
 */
public record GuestConfig(int vcpus, int hz, Duration runFor, boolean ipis, int ipiEveryTicks, int callbackVector,
        int fifoPorts, int consoleLines) {
    /** Events a vCPU sends on its FIFO ports each tick. */
    public static final int FIFO_BATCH = 64;
    /** FIFO ports beyond the timer and IPI ports, within the event array's 2^17 words. */
    public static final int MAX_FIFO_PORTS = EvtchnFifo.NR_CHANNELS - 1 - 2 * GuestMemoryMap.MAX_VCPUS;
    /** Linux's HYPERVISOR_CALLBACK_VECTOR. */
    public static final int DEFAULT_CALLBACK_VECTOR = 0xF3;
    /** A tick period of 100 µs: more would measure the host's timers, not the guest. */
    public static final int MAX_HZ = 10_000;
    public static final Duration MAX_RUN_FOR = Duration.ofDays(365);
    public static final int MAX_CONSOLE_LINES = 100_000_000;

    public GuestConfig {
        Objects.requireNonNull(runFor, "runFor");
        if (vcpus < 1 || vcpus > GuestMemoryMap.MAX_VCPUS) {
            throw new IllegalArgumentException("vcpus must be 1.." + GuestMemoryMap.MAX_VCPUS
                    + " (one vcpu_info page holds that many): got " + vcpus);
        }
        if (hz < 1 || hz > MAX_HZ) {
            throw new IllegalArgumentException("hz must be 1.." + MAX_HZ + ": got " + hz);
        }
        if (runFor.isNegative() || runFor.isZero() || runFor.compareTo(MAX_RUN_FOR) > 0) {
            throw new IllegalArgumentException("runFor must be positive and at most " + MAX_RUN_FOR + ": got " + runFor);
        }
        if (runFor.toNanos() < 1_000_000_000L / hz) {
            throw new IllegalArgumentException("runFor " + runFor + " is shorter than one tick at " + hz
                    + " Hz (" + Duration.ofNanos(1_000_000_000L / hz) + ")");
        }
        if (ipiEveryTicks < 1) {
            throw new IllegalArgumentException("ipiEveryTicks must be at least 1: got " + ipiEveryTicks);
        }
        if (fifoPorts < 0 || fifoPorts > MAX_FIFO_PORTS || (fifoPorts > 0 && fifoPorts < vcpus * FIFO_BATCH * 8)) {
            throw new IllegalArgumentException("fifoPorts must be 0 (2-level), or " + vcpus * FIFO_BATCH * 8
                    + " (8 batches a vCPU) to " + MAX_FIFO_PORTS + ": got " + fifoPorts);
        }
        if (consoleLines < 0 || consoleLines > MAX_CONSOLE_LINES) {
            throw new IllegalArgumentException("consoleLines must be 0.." + MAX_CONSOLE_LINES + ": got " + consoleLines);
        }
        if (callbackVector < HvmOp.MIN_UPCALL_VECTOR || callbackVector > 0xFF) {
            throw new IllegalArgumentException(String.format(
                    "callbackVector must be 0x%x..0xff (lower vectors are exceptions): got 0x%x",
                    HvmOp.MIN_UPCALL_VECTOR, callbackVector));
        }
    }

    /** A 2-level configuration. */
    public GuestConfig(int vcpus, int hz, Duration runFor, boolean ipis, int ipiEveryTicks, int callbackVector) {
        this(vcpus, hz, runFor, ipis, ipiEveryTicks, callbackVector, 0, 0);
    }

    /** A 2-level configuration with Linux's callback vector. */
    public GuestConfig(int vcpus, int hz, Duration runFor, boolean ipis, int ipiEveryTicks) {
        this(vcpus, hz, runFor, ipis, ipiEveryTicks, DEFAULT_CALLBACK_VECTOR);
    }

    /** This configuration on the FIFO ABI with {@code ports} more ports (see {@link #fifoPorts}). */
    public GuestConfig withFifo(int ports) {
        return new GuestConfig(vcpus, hz, runFor, ipis, ipiEveryTicks, callbackVector, ports, consoleLines);
    }

    /** This configuration printing {@code lines} lines on its console ring (see {@link #consoleLines}). */
    public GuestConfig withConsole(int lines) {
        return new GuestConfig(vcpus, hz, runFor, ipis, ipiEveryTicks, callbackVector, fifoPorts, lines);
    }

    public boolean console() {
        return consoleLines > 0;
    }

    /** Console mode: lines printed each tick, so that they are spread over the whole run. */
    public int consoleLinesPerTick() {
        long ticks = Math.max(1, expectedTicks());
        return (int) Math.max(1, (consoleLines + ticks - 1) / ticks);
    }

    public boolean fifo() {
        return fifoPorts > 0;
    }

    /** FIFO mode: event array pages for every port the guest binds (its timer and IPI ports, and the FIFO ports). */
    public int fifoArrayPages() {
        return (fifoPorts + 2 * vcpus + 1 + EvtchnFifo.WORDS_PER_PAGE - 1) / EvtchnFifo.WORDS_PER_PAGE;
    }

    /** {@code vcpus} ticking at {@code hz} for {@code runFor}, without IPIs. */
    public static GuestConfig ticking(int vcpus, int hz, Duration runFor) {
        return new GuestConfig(vcpus, hz, runFor, false, 1);
    }

    /** This configuration with an IPI to the next vCPU every {@code everyTicks} ticks. */
    public GuestConfig withIpis(int everyTicks) {
        return new GuestConfig(vcpus, hz, runFor, true, everyTicks, callbackVector, fifoPorts, consoleLines);
    }

    /** The tick period in nanoseconds (1e9 / hz, rounded down). */
    public long periodNanos() {
        return 1_000_000_000L / hz;
    }

    /** Ticks each vCPU handles when every tick arrives: deadlines at start + k·period within runFor. */
    public long expectedTicks() {
        return runFor.toNanos() / periodNanos();
    }

    /** The guest RAM this configuration needs at least ({@link GuestMemoryMap#ramBytes}). */
    public long ramBytes() {
        return fifo() ? GuestMemoryMap.fifoRamBytes(fifoArrayPages()) : GuestMemoryMap.ramBytes(vcpus);
    }
}

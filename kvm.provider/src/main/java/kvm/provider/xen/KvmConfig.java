package kvm.provider.xen;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * How a {@link KvmBackend} builds its VM.
 *
 * @param vcpus        vCPUs, 1..{@link #MAX_VCPUS} (without {@code irqchip} only vCPU 0 runs: the
 *                     others exist for event channels but cannot be started without local APICs)
 * @param ramBytes     guest RAM at guest-physical 0, a multiple of 2 MiB, {@link #MIN_RAM}..{@link #MAX_RAM}
 * @param irqchip      create the in-kernel irqchip: upcalls then go through the local APICs by MSI
 *                     (the guest EOIs), HLT stays in the kernel and secondary vCPUs start by INIT/SIPI
 * @param log          the host's messages about this VM (path chosen, guest faults, refused calls)
 * @param debugConsole lines the guest writes byte by byte to I/O port {@value #DEBUG_CONSOLE_PORT}
 *                     (QEMU's debugcon), or null to ignore that port
 * @param portWrites   other OUTs to I/O ports, or null to ignore them (benchmarks time guest phases with them)
 */
public record KvmConfig(int vcpus, long ramBytes, boolean irqchip, Consumer<String> log, Consumer<String> debugConsole,
        PortWriteListener portWrites) {
    public static final int MAX_VCPUS = 64;
    public static final long MIN_RAM = 2L << 20;
    public static final long MAX_RAM = 64L << 30;
    public static final int DEBUG_CONSOLE_PORT = 0xe9;

    /** An OUT instruction of the guest to a port nobody else handles. Called on the vCPU's thread. */
    @FunctionalInterface
    public interface PortWriteListener {
        void out(int vcpu, int port, int size, long value);
    }

    public KvmConfig {
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new IllegalArgumentException("vCPU count must be 1.." + MAX_VCPUS + ": got " + vcpus);
        }
        if (ramBytes < MIN_RAM || ramBytes > MAX_RAM || ramBytes % MIN_RAM != 0) {
            throw new IllegalArgumentException("guest RAM must be a multiple of 2 MiB from 2 MiB to 64 GiB: got "
                    + ramBytes + " bytes");
        }
        Objects.requireNonNull(log, "log");
    }

    /** {@code vcpus} and {@code ramBytes}, no irqchip, messages to {@code log}, no debug console. */
    public static KvmConfig of(int vcpus, long ramBytes, Consumer<String> log) {
        return new KvmConfig(vcpus, ramBytes, false, log, null, null);
    }

    public KvmConfig withIrqchip(boolean on) {
        return new KvmConfig(vcpus, ramBytes, on, log, debugConsole, portWrites);
    }

    public KvmConfig withDebugConsole(Consumer<String> lines) {
        return new KvmConfig(vcpus, ramBytes, irqchip, log, lines, portWrites);
    }

    public KvmConfig withPortWrites(PortWriteListener listener) {
        return new KvmConfig(vcpus, ramBytes, irqchip, log, debugConsole, listener);
    }
}

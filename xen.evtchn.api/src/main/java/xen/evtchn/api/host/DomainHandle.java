package xen.evtchn.api.host;

import java.util.List;
import java.util.function.IntConsumer;
import org.osgi.annotation.versioning.ProviderType;
import xen.evtchn.api.EventChannels;

/** A domain of a {@link GuestHost}, as its booter and observers see it. Thread-safe. */
@ProviderType
public interface DomainHandle {
    /** {@link #shutdownReason()} of a domain that has not shut down. */
    int RUNNING = -1;

    /** The domain's id. */
    int domid();

    /** How many vCPUs the domain has. */
    int vcpuCount();

    /**
     * Timer events the host has delivered to {@code vcpu} so far (singleshot and periodic, as
     * VIRQ_TIMER): the host's side of the guest's tick count.
     *
     * @throws IndexOutOfBoundsException if the domain has no such vCPU
     */
    long timerTicks(int vcpu);

    /** The reason the domain gave SCHEDOP_shutdown (SchedOp.SHUTDOWN_*), or {@link #RUNNING}. */
    int shutdownReason();

    /**
     * Calls {@code listener} with the shutdown reason (SchedOp.SHUTDOWN_*) once the domain shuts
     * down, on the vCPU thread whose SCHEDOP_shutdown did it (it must neither block nor throw); at once, on the
     * caller's thread, if it has shut down already. A soft reset is not a shutdown.
     */
    void onShutdown(IntConsumer listener);

    /** The ports in use (not free), in port order, with their bits and counters. */
    List<PortInfo> ports();

    /** Port {@code port} as {@link #ports()} shows it, or null if it is not valid or not in use. */
    PortInfo port(int port);

    /**
     * Raises {@code port} as if its peer had sent on it (QEMU's xen-event-inject): its pending bit,
     * then the upcall unless it is masked. Returns 0, or -EINVAL if the port is not valid or not
     * in use.
     */
    int inject(int port);

    /** The vCPU's timers. @throws IndexOutOfBoundsException if the domain has no such vCPU */
    VcpuTimerInfo timers(int vcpu);

    /**
     * The domain's event channels, the operations its EVTCHNOP hypercalls reach, for tools and
     * tests that act for the guest.
     */
    EventChannels eventChannels();

    /**
     * Saves the domain as a save stream (format in docs/SAVE-RESTORE.md): its event channels,
     * callback and upcall vectors, vcpu_info and shared_info locations, HVM parameters, timers and
     * the named host backends' bindings to it. Its timers stop first and do not fire on this host
     * again. Pause its vCPUs before, and copy its guest memory with them; then destroy it, or
     * restore the stream ({@link GuestHost#restoreDomain}) here or on another host.
     *
     * @since 1.2
     */
    byte[] save();

    /**
     * HVM parameter {@code index} as the toolstack reads it (xc_hvm_param_get): e.g.
     * HvmParam.CONSOLE_PFN and CONSOLE_EVTCHN, where the host put the console ring and its port.
     *
     * @throws IllegalArgumentException if {@code index} is not below HvmParam.NR_PARAMS
     * @since 1.3
     */
    long hvmParam(int index);

    /**
     * The domain's RAM in bytes, as its memory map offers it to the guest (its special frames not
     * counted): what the toolstack writes as XenStore's memory/target. 0 if the host cannot tell.
     *
     * @since 1.5
     */
    default long ramBytes() {
        return 0;
    }

    /**
     * Shuts the domain down with {@code reason} (SchedOp.SHUTDOWN_*) as if it had called
     * SCHEDOP_shutdown, as the toolstack's xc_domain_shutdown does: for a VMM that saw the guest
     * ask for it another way (an ACPI poweroff or reset). A soft reset is refused.
     *
     * @throws IllegalArgumentException for a reason that is not poweroff, reboot, suspend, crash or watchdog
     * @since 1.3
     */
    void shutdown(int reason);

    /**
     * The host's end of the domain's console: its output, its input, terminals attached to it.
     *
     * @since 1.3
     */
    GuestConsole console();

    /**
     * The host's end of the domain's console {@code n}: 0 is {@link #console()}, the ring at
     * HVM_PARAM_CONSOLE_PFN (Linux's hvc0); 1 and up are xen-bus consoles ({@code device/console/N},
     * hvc1 and up), each made at first use and kept as long as the domain, so that a backend
     * swapped under it loses nothing. Their lines go to the domain's console lines, prefixed
     * "consoleN: ".
     *
     * @throws IllegalArgumentException if the host has no console {@code n}
     * @since 1.6
     */
    default GuestConsole console(int n) {
        if (n == 0) {
            return console();
        }
        throw new IllegalArgumentException("console " + n + ": this host has no xen-bus consoles");
    }
}

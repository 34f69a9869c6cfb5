package xen.evtchn.api;

/**
 * How the event channel upcall reaches a vCPU, as the guest configured it (HVM_PARAM_CALLBACK_IRQ
 * or HVMOP_set_evtchn_upcall_vector). Edge routes are injected once per newly set
 * upcall_pending; level routes (GSI, PCI INTx) stay asserted while vCPU 0's upcall_pending is set.
 */
public sealed interface UpcallRoute {
    /** No callback configured: the guest polls upcall_pending itself. */
    record None() implements UpcallRoute {
    }

    /** HVM_PARAM_CALLBACK_IRQ type 2: a vector injected directly, with no EOI (as Xen does). */
    record Vector(int vector) implements UpcallRoute {
    }

    /** HVMOP_set_evtchn_upcall_vector: a per-vCPU vector through the local APIC (the guest EOIs). */
    record LapicVector(int vector) implements UpcallRoute {
    }

    /** HVM_PARAM_CALLBACK_IRQ type 0: a level-triggered GSI, on vCPU 0 only. */
    record Gsi(int gsi) implements UpcallRoute {
    }

    /** HVM_PARAM_CALLBACK_IRQ type 1: a PCI INTx line, on vCPU 0 only. */
    record PciIntx(int bus, int devfn, int pin) implements UpcallRoute {
    }

    UpcallRoute NONE = new None();
}

package reference.guest;

/**
 * The reference guest panicked: a hypercall failed where a real kernel would BUG(), or the
 * hypervisor left something the guest relies on unset. It ends the vCPU's guest code, so the
 * backend's join reports it (and stops the other vCPUs, as a crashed domain stops).
 */
public final class GuestPanic extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient HypercallError error;

    GuestPanic(String message) {
        super(message);
        this.error = null;
    }

    GuestPanic(HypercallError error) {
        super(error + " (a real guest would panic)");
        this.error = error;
    }

    /** The failed hypercall, or null if the panic had another cause. */
    public HypercallError error() {
        return error;
    }
}

package xen.evtchn.api.backend;

import xen.evtchn.api.abi.GrantStatus;

/**
 * A grant table call of a host-side backend was refused; {@link #status()} is Xen's GNTST_*
 * status (negative, {@link GrantStatus}).
 *
 * @since 1.3
 */
public class GrantException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int status;

    public GrantException(int status, String message) {
        super(message + " (" + GrantStatus.name(status) + ")");
        this.status = status;
    }

    public int status() {
        return status;
    }
}

package xen.evtchn.api.store;

/**
 * A XenStore request refused, with the error xenstored answers by name (xs_wire.h's xsd_errors):
 * ENOENT, EACCES, EINVAL, EEXIST, ENOSPC, EAGAIN (a transaction's conflict), E2BIG, EPERM, ...
 */
public class XenStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String error;

    public XenStoreException(String error, String message) {
        super(message + " (" + error + ")");
        this.error = error;
    }

    /** The error's name, as on the wire: "ENOENT", "EAGAIN", ... */
    public String error() {
        return error;
    }
}

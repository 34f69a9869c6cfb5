package xen.evtchn.api.backend;

import xen.evtchn.api.abi.Errno;

/** A host-side event channel call failed; {@link #errno()} is the Xen errno (positive). */
public class EvtchnException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int errno;

    public EvtchnException(int errno, String message) {
        super(message + " (" + Errno.name(errno) + ")");
        this.errno = Math.abs(errno);
    }

    public int errno() {
        return errno;
    }
}

package kvm.provider.timer;

import kvm.provider.HostErrno;

/** A Linux call failed, e.g. "timerfd_create failed: EMFILE". */
public final class NativeCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    NativeCallException(String call, int errno) {
        super(call + " failed: " + HostErrno.name(errno));
        this.call = call;
        this.errno = errno;
    }

    /** The failed call, e.g. "timerfd_create". */
    public String call() {
        return call;
    }

    /** Its errno. */
    public int errno() {
        return errno;
    }
}

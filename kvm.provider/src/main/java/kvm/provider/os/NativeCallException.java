package kvm.provider.os;

/** A native call (libc, an ioctl) failed, e.g. "timerfd_create failed: EMFILE", "KVM_CREATE_VCPU failed: EEXIST". */
public final class NativeCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public NativeCallException(String call, int errno) {
        super(call + " failed: " + HostErrno.name(errno));
        this.call = call;
        this.errno = errno;
    }

    /** The failed call, e.g. "timerfd_create" or "KVM_RUN". */
    public String call() {
        return call;
    }

    /** Its errno. */
    public int errno() {
        return errno;
    }

    /**
     * What a downcall's invokeExact threw, for a {@code throw}: runtime exceptions and errors as
     * they are; a checked throwable (which a downcall never throws) wrapped.
     */
    public static RuntimeException rethrow(Throwable e) {
        if (e instanceof RuntimeException r) {
            throw r;
        }
        if (e instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException("native call failed", e);
    }
}

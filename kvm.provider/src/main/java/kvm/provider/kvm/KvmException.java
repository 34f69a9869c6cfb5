package kvm.provider.kvm;

import kvm.provider.HostErrno;

/** A KVM ioctl or a libc call under it failed, e.g. "KVM_CREATE_VCPU failed: EEXIST". */
public final class KvmException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    KvmException(String call, int errno) {
        super(call + " failed: " + HostErrno.name(errno));
        this.call = call;
        this.errno = errno;
    }

    /** The failed call, e.g. "KVM_CREATE_VCPU" or "open /dev/kvm". */
    public String call() {
        return call;
    }

    /** Its errno. */
    public int errno() {
        return errno;
    }
}

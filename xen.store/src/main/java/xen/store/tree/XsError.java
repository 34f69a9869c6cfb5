package xen.store.tree;

/**
 * The errors a XenStore request can answer with, as xs_wire.h's {@code xsd_errors} lists them: on the
 * wire an XS_ERROR reply carries the symbol ({@link #name()}) followed by a NUL, never the number.
 * The numbers are Linux's, for the host's messages.
 */
public enum XsError {
    EINVAL(22), EACCES(13), EEXIST(17), EISDIR(21), ENOENT(2), ENOMEM(12), ENOSPC(28), EIO(5),
    ENOTEMPTY(39), ENOSYS(38), EROFS(30), EBUSY(16), EAGAIN(11), EISCONN(106), E2BIG(7), EPERM(1);

    private final int errno;

    XsError(int errno) {
        this.errno = errno;
    }

    /** The Linux errno value. */
    public int errno() {
        return errno;
    }
}

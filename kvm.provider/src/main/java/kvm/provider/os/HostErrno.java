package kvm.provider.os;

/** Names of the host's errno values that the native layers (KVM, timers) report in exceptions. */
public final class HostErrno {
    public static final int EINTR = 4;
    public static final int E2BIG = 7;
    public static final int EAGAIN = 11;

    private HostErrno() {
    }

    /** Symbolic name of an errno, e.g. "EEXIST", or "errno 123" for one not in the table. */
    public static String name(int errno) {
        return switch (errno) {
            case 1 -> "EPERM";
            case 2 -> "ENOENT";
            case 4 -> "EINTR";
            case 5 -> "EIO";
            case 6 -> "ENXIO";
            case 7 -> "E2BIG";
            case 9 -> "EBADF";
            case 11 -> "EAGAIN";
            case 12 -> "ENOMEM";
            case 13 -> "EACCES";
            case 14 -> "EFAULT";
            case 16 -> "EBUSY";
            case 17 -> "EEXIST";
            case 19 -> "ENODEV";
            case 22 -> "EINVAL";
            case 23 -> "ENFILE";
            case 24 -> "EMFILE";
            case 25 -> "ENOTTY";
            case 28 -> "ENOSPC";
            case 38 -> "ENOSYS";
            case 95 -> "EOPNOTSUPP";
            default -> "errno " + errno;
        };
    }
}

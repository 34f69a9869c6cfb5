package xen.block.disk;

/** An image that cannot be served, with a message naming it and why. */
public final class DiskException extends Exception {
    private static final long serialVersionUID = 1L;

    public DiskException(String message) {
        super(message);
    }
}

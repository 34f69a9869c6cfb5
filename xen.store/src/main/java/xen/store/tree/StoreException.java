package xen.store.tree;

/** A request the tree refuses, with the error xenstored answers. No stack trace: it is an answer, not a fault. */
public final class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final XsError error;

    public StoreException(XsError error) {
        super(error.name(), null, false, false);
        this.error = error;
    }

    public XsError error() {
        return error;
    }
}

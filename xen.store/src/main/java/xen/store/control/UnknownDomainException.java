package xen.store.control;

/** A request for a domain that has no home in XenStore (no such domain, or one without a store). */
public final class UnknownDomainException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int domid;

    public UnknownDomainException(int domid) {
        super("no domain " + domid + " in XenStore: /local/domain/" + domid + " does not exist");
        this.domid = domid;
    }

    public int domid() {
        return domid;
    }
}

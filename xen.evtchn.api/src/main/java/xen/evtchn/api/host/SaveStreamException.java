package xen.evtchn.api.host;

/**
 * A save stream that cannot be restored: not a save stream, a format version this host does not
 * read, truncated, corrupted (its checksum), inconsistent in itself, or not matching the vCPU
 * backend it is to be restored on. Nothing of it was applied. The message says which, and where.
 */
public class SaveStreamException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public SaveStreamException(String message) {
        super(message);
    }
}

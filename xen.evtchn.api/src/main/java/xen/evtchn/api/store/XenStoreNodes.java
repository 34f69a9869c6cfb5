package xen.evtchn.api.store;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The node operations, the same on the live tree ({@link XenStore}) and inside a transaction
 * ({@link XenStoreTransaction}), each as domain 0. A path is absolute ({@code /local/domain/1/name})
 * or relative to {@code /local/domain/0}. Every refusal is a {@link XenStoreException}.
 */
@ProviderType
public interface XenStoreNodes {
    /** xs_read: the node's value. */
    byte[] read(String path);

    /** xs_read of a text value, decoded as UTF-8. */
    default String readString(String path) {
        return new String(read(path), StandardCharsets.UTF_8);
    }

    /** xs_write: sets the value, creating the node and any missing parent. */
    void write(String path, byte[] value);

    /** xs_write of a text value, encoded as UTF-8. */
    default void write(String path, String value) {
        write(path, value.getBytes(StandardCharsets.UTF_8));
    }

    /** xs_mkdir: creates an empty node and any missing parent; an existing node stays as it is. */
    void mkdir(String path);

    /** xs_rm: removes the node and everything below it; a missing node whose parent exists is fine. */
    void rm(String path);

    /** xs_directory: the names of the node's children, sorted. */
    List<String> directory(String path);

    /**
     * xs_get_permissions: the node's permissions as xenstore-ls -p shows them, a letter (n none,
     * r read, w write, b both) and a domid each: the first names the owner and is the default for
     * every domain not listed after it ({@code ["n1", "r0"]}).
     */
    List<String> getPermissions(String path);

    /** xs_set_permissions, in the form {@link #getPermissions} returns; EINVAL for a malformed entry. */
    void setPermissions(String path, List<String> permissions);
}

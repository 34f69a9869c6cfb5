package xen.evtchn.api.store;

import org.osgi.annotation.versioning.ProviderType;

/**
 * XenStore as the host sees it (libxenstore's xs_handle, opened by dom0): the node operations on
 * the live tree, transactions and watches. The store registers it as a service; its calls are
 * served in turn with every guest's requests.
 */
@ProviderType
public interface XenStore extends XenStoreNodes {
    /**
     * xs_transaction_start: a transaction whose operations see their own view of the tree until
     * {@link XenStoreTransaction#commit()}.
     */
    XenStoreTransaction transactionStart();

    /**
     * xs_watch: {@code callback} hears {@code path} and {@code token} once now and, after that,
     * the path of every change at or below {@code path} (relative if {@code path} is). Special
     * paths {@code @introduceDomain} and {@code @releaseDomain} hear domains come and go. Events
     * arrive in order on a thread of the store's, never the caller's; a callback that blocks
     * delays only the callbacks after it.
     *
     * @return the watch; closing it is xs_unwatch
     */
    XenStoreWatch watch(String path, String token, XenStoreWatch.Callback callback);
}

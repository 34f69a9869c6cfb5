package xen.store.tree;

/** Who receives a watch's events: a domain's connection. Called with the store's lock held; must not block. */
public interface Watcher {
    int domid();

    /** One event: the path (relative if the watch was registered relative) and the watch's token. */
    void event(String path, String token);
}

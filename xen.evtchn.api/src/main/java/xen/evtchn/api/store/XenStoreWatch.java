package xen.evtchn.api.store;

import org.osgi.annotation.versioning.ConsumerType;
import org.osgi.annotation.versioning.ProviderType;

/** A registered watch ({@link XenStore#watch}); closing it removes it (xs_unwatch). */
@ProviderType
public interface XenStoreWatch extends AutoCloseable {
    String path();

    String token();

    /** Removes the watch: no callback starts after this returns (one already running may still end). */
    @Override
    void close();

    /** What a watch calls with each event: the changed path and the watch's token. */
    @ConsumerType
    @FunctionalInterface
    interface Callback {
        void event(String path, String token);
    }
}

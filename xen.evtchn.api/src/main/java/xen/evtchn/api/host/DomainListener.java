package xen.evtchn.api.host;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Hears of a host's guest domains, as a Xen backend daemon (xenconsoled, a device backend)
 * watches for domains to serve. A whiteboard: register it as a service and the host calls it for
 * every domain there is, then for each new one. Calls for one domain come in order, never at once.
 *
 * @since 1.3
 */
@ConsumerType
public interface DomainListener {
    /**
     * The domain is whole (created or restored) and its guest has not run yet; or it was there
     * when this listener came. Must not block for long: domain creation waits for it.
     */
    void domainCreated(DomainHandle domain);

    /**
     * The domain is being destroyed: its vCPUs are stopped. Once this returns the listener must no
     * longer use the domain's memory or ports (its memory may be freed right after).
     */
    void domainDestroyed(DomainHandle domain);
}

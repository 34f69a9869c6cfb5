package xen.evtchn.api.backend;

/**
 * Event channels for backends that live in the host (xenevtchn_open). A host-side backend owns
 * ports in {@link xen.evtchn.api.abi.DomId#HOST}'s table and connects them to guest ports that the
 * guest offered with {@code alloc_unbound(remote_dom = 0)}.
 */
public interface EvtchnHost {
    EvtchnHandle open();
}

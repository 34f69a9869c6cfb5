package xen.evtchn.impl.host;

import java.util.ArrayList;
import java.util.List;
import kvm.provider.software.SoftwareBackend;
import xen.evtchn.impl.time.ManualTimerProvider;

/** A host component without a framework, on a manual clock, and the one-vCPU backends its tests make; closes them all. */
final class HostFixture implements AutoCloseable {
    static final long RAM = 64 * 1024;

    final HostComponent host = new HostComponent(new ManualTimerProvider(0));
    private final List<SoftwareBackend> backends = new ArrayList<>();

    /** A one-vCPU backend of {@link #RAM} for {@code domid}, its hypercalls to the host. */
    SoftwareBackend backend(int domid) {
        SoftwareBackend b = new SoftwareBackend(domid, 1, RAM, host.hypercalls());
        backends.add(b);
        return b;
    }

    @Override
    public void close() {
        host.deactivate();
        backends.forEach(SoftwareBackend::close);
    }
}

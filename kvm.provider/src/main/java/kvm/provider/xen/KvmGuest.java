package kvm.provider.xen;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;
import kvm.provider.boot.PvhImage;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.GuestHost;

/**
 * A PVH guest image running as a domain of a {@link GuestHost} on a {@link KvmBackend}: the image
 * loaded, the domain created with its console, the vCPUs started, and stopped again when the
 * guest shuts down (Xen pauses such a domain).
 */
public final class KvmGuest implements AutoCloseable {
    /**
     * How the guest ended.
     *
     * @param reason  SchedOp.SHUTDOWN_* (a failed guest counts as SHUTDOWN_CRASH)
     * @param failure the host's account of the fault, or null if the guest shut down by itself
     */
    public record Outcome(int reason, String failure) {
        public String reasonName() {
            return SchedOp.shutdownReason(reason);
        }

        @Override
        public String toString() {
            return failure == null ? reasonName() : reasonName() + ": " + failure;
        }
    }

    private final GuestHost host;
    private final KvmBackend backend;
    private final DomainHandle domain;
    private boolean closed;

    private KvmGuest(GuestHost host, KvmBackend backend, DomainHandle domain) {
        this.host = host;
        this.backend = backend;
        this.domain = domain;
    }

    /**
     * Boots {@code image} with {@code cmdline} as domain {@code domid}; its CONSOLEIO_write lines
     * go to {@code console}. If anything fails on the way, what was made is undone.
     */
    public static KvmGuest boot(GuestHost host, int domid, KvmConfig config, PvhImage image, String cmdline,
            Consumer<String> console) {
        return boot(host, domid, config, image, cmdline, null, console);
    }

    /** {@link #boot(GuestHost, int, KvmConfig, PvhImage, String, Consumer)} showing the guest Xen {@code xenVersion} ("major.minor"; null: the host's). */
    public static KvmGuest boot(GuestHost host, int domid, KvmConfig config, PvhImage image, String cmdline,
            String xenVersion, Consumer<String> console) {
        return boot(host, domid, config, image, cmdline, null, xenVersion, console);
    }

    /**
     * {@link #boot(GuestHost, int, KvmConfig, PvhImage, String, String, Consumer)} with
     * {@code initrd} (null: none) as the first module. The guest's ACPI poweroff and reset shut the
     * domain down as its SCHEDOP_shutdown would.
     */
    public static KvmGuest boot(GuestHost host, int domid, KvmConfig config, PvhImage image, String cmdline,
            byte[] initrd, String xenVersion, Consumer<String> console) {
        return boot(host, domid, config, image, cmdline, initrd, xenVersion, console, null);
    }

    /**
     * {@link #boot(GuestHost, int, KvmConfig, PvhImage, String, byte[], String, Consumer)} calling
     * {@code beforeStart} (null: none) with the domain once it exists and before its vCPUs run:
     * where the toolstack adds its devices, as libxl does before it unpauses a domain. If it
     * throws, the domain is destroyed and the VM freed, and the exception passes on.
     */
    public static KvmGuest boot(GuestHost host, int domid, KvmConfig config, PvhImage image, String cmdline,
            byte[] initrd, String xenVersion, Consumer<String> console, Consumer<DomainHandle> beforeStart) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(image, "image");
        KvmBackend backend = new KvmBackend(domid, config, host.hypercalls());
        DomainHandle domain = null;
        try {
            backend.loadPvh(image, cmdline, initrd);
            domain = host.createDomain(domid, backend, console, xenVersion);
            DomainHandle created = domain;
            backend.onPowerRequest(created::shutdown);
            domain.onShutdown(reason -> backend.requestStop());
            if (beforeStart != null) {
                beforeStart.accept(created);
            }
            backend.start();
            return new KvmGuest(host, backend, domain);
        } catch (RuntimeException | Error e) {
            if (domain != null) {
                host.destroyDomain(domid);
            }
            backend.close();
            throw e;
        }
    }

    public DomainHandle domain() {
        return domain;
    }

    public KvmBackend backend() {
        return backend;
    }

    /** Waits up to {@code timeout} for the guest to end; its outcome, or null if it still runs. */
    public Outcome await(Duration timeout) throws InterruptedException {
        if (!backend.awaitStop(timeout)) {
            return null;
        }
        return outcome();
    }

    private Outcome outcome() {
        int reason = domain.shutdownReason();
        String failure = backend.failure().orElse(null);
        if (failure != null) {
            return new Outcome(SchedOp.SHUTDOWN_CRASH, failure);
        }
        if (reason == DomainHandle.RUNNING) {
            return new Outcome(SchedOp.SHUTDOWN_CRASH, "dom" + domain.domid() + " was stopped by the host");
        }
        return new Outcome(reason, null);
    }

    /** Stops the vCPUs, destroys the domain and frees the VM. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        backend.requestStop();
        try {
            backend.awaitStop(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        host.destroyDomain(domain.domid());
        backend.close();
    }
}

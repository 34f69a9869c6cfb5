package xen.evtchn.impl.evtchn;

import static xen.evtchn.api.abi.Errno.EAGAIN;
import static xen.evtchn.api.abi.Errno.EBUSY;
import static xen.evtchn.api.abi.Errno.EEXIST;
import static xen.evtchn.api.abi.Errno.EINVAL;
import static xen.evtchn.api.abi.Errno.ENOENT;
import static xen.evtchn.api.abi.Errno.ENOSPC;
import static xen.evtchn.api.abi.Errno.ENOSYS;
import static xen.evtchn.api.abi.Errno.EOPNOTSUPP;
import static xen.evtchn.api.abi.Errno.EPERM;
import static xen.evtchn.api.abi.Errno.ESRCH;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.StampedLock;
import java.util.function.IntPredicate;
import java.util.function.IntSupplier;
import xen.evtchn.api.EventChannels;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.VcpuInfoLayout;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.api.abi.VirqKind;
import xen.evtchn.impl.delivery.EventDelivery;
import xen.evtchn.impl.delivery.Fifo;
import xen.evtchn.impl.delivery.TwoLevel;
import xen.evtchn.impl.delivery.Upcalls;
import xen.evtchn.impl.delivery.VcpuInfos;
import xen.evtchn.impl.port.PortEntry;
import xen.evtchn.impl.port.PortTable;
import xen.evtchn.impl.upcall.UpcallRouting;

/**
 * A guest domain's event channels, on the 2-level ABI or, once the guest asks with
 * EVTCHNOP_init_control, the FIFO ABI ({@link Fifo}): every EVTCHNOP with Xen's semantics and
 * error order, delivery into the guest's shared_info and vcpu_info (where they are, and moving
 * them), an upcall when a vCPU's upcall_pending is newly set (its route is {@link UpcallRouting}'s),
 * vCPUs waiting for events (block, poll), and soft reset. Created by {@link Domains}; the rest of
 * the domain (version, HVM parameters, time) is the {@code domain.Domain} that holds it.
 */
public final class GuestEventChannels extends EventDomain implements EventChannels {
    private static final VarHandle INT = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle UPCALL_PENDING = ValueLayout.JAVA_BYTE.varHandle();

    final GuestWidth width;
    private final VcpuBackend vcpus;
    private final Domains domains;
    final VcpuInfos vcpuInfos;
    private final TwoLevel twoLevel;
    /**
     * The FIFO ABI's state once the guest asked for it (EVTCHNOP_init_control); null under 2-level.
     * Written under the write lock; which ABI delivers is read from it ({@link #delivery()}).
     */
    volatile Fifo fifo;
    private final Upcalls upcalls;
    private final EventWaits waits;
    /** virq_to_evtchn of every vCPU: port of VIRQ v on vCPU c at [c * Virq.COUNT + v], 0 if unbound. */
    final int[] virqPorts;
    private final AtomicBoolean resetting = new AtomicBoolean();
    /**
     * The guest's binds hold its read lock and a soft reset its write lock: Xen soft-resets a
     * paused domain, so no bind may land behind that sweep. EVTCHNOP_reset does not take it: there
     * Xen lets binds race the sweep and answers -EAGAIN if one stayed.
     */
    private final StampedLock bindGate = new StampedLock();
    private final UpcallRouting upcallRouting;
    private volatile boolean dying;

    GuestEventChannels(int domid, GuestWidth width, VcpuBackend vcpus, Domains domains) {
        super(domid, new PortTable(width.twoLevelPorts()), domains.counting);
        this.width = width;
        this.vcpus = vcpus;
        this.domains = domains;
        int n = vcpus.vcpuCount();
        this.vcpuInfos = new VcpuInfos(width, n);
        this.virqPorts = new int[n * Virq.COUNT];
        this.upcallRouting = new UpcallRouting(vcpus, this::upcallPending);
        this.waits = new EventWaits(n);
        this.upcalls = new Upcalls() {
            @Override
            public void portPending(int port) {
                waits.portPending(port);
            }

            @Override
            public void upcall(int vcpu) {
                waits.upcallPending(vcpu);
                upcallRouting.deliver(vcpu);
            }
        };
        this.twoLevel = new TwoLevel(width, vcpuInfos, upcalls);
    }

    @Override
    public int domid() {
        return domid;
    }

    @Override
    public GuestWidth width() {
        return width;
    }

    @Override
    public int portLimit() {
        return ports.limit();
    }

    public VcpuBackend vcpus() {
        return vcpus;
    }

    // ---- EVTCHNOPs -------------------------------------------------------------------------

    @Override
    public int allocUnbound(int dom, int remoteDom) {
        int rc = checkSelf(dom);
        if (rc != 0) {
            return rc;
        }
        int remote = remoteDom == DomId.SELF ? domid : remoteDom;
        return binding(() -> bindFreePort(PortEntry.unbound(0, remote)));
    }

    @Override
    public int bindInterdomain(int remoteDom, int remotePort) {
        int remote = remoteDom == DomId.SELF ? domid : remoteDom;
        return binding(() -> Interdomain.bind(this, domains.get(remote), remotePort, 0));
    }

    @Override
    public int bindVirq(int virq, int vcpu) {
        if (virq < 0 || virq >= Virq.COUNT) {
            return -EINVAL;
        }
        if (Virq.kindOf(virq).boundOnVcpu0Only() && vcpu != 0) {
            return -EINVAL;
        }
        if (!vcpus.vcpuExists(vcpu)) {
            return -ENOENT;
        }
        return binding(() -> {
            long stamp = lock.writeLock();
            try {
                int slot = vcpu * Virq.COUNT + virq;
                if (virqPorts[slot] != 0) {
                    return -EEXIST;
                }
                int port = freePort();
                if (port < 0) {
                    return -ENOSPC;
                }
                bindPort(port, PortEntry.virq(vcpu, virq));
                INT.setRelease(virqPorts, slot, port);
                return port;
            } finally {
                lock.unlockWrite(stamp);
            }
        });
    }

    /** Physical IRQs are not emulated: there is no passthrough device to own one. */
    @Override
    public int bindPirq(int pirq, int flags) {
        return -ENOSYS;
    }

    @Override
    public int bindIpi(int vcpu) {
        if (!vcpus.vcpuExists(vcpu)) {
            return -ENOENT;
        }
        return binding(() -> bindFreePort(PortEntry.ipi(vcpu)));
    }

    /** Binds {@code entry} at the lowest free port, under the write lock: the port, or -ENOSPC. */
    private int bindFreePort(long entry) {
        long stamp = lock.writeLock();
        try {
            int port = freePort();
            if (port < 0) {
                return -ENOSPC;
            }
            bindPort(port, entry);
            return port;
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /** Runs one of the guest's binds; during a soft reset it waits for the reset to end. */
    private int binding(IntSupplier bind) {
        long gate = bindGate.readLock();
        try {
            return bind.getAsInt();
        } finally {
            bindGate.unlockRead(gate);
        }
    }

    @Override
    public int close(int port) {
        if (!ports.isValid(port)) {
            return -EINVAL;
        }
        return Interdomain.close(this, port, domains);
    }

    @Override
    void unbinding(int port, long entry) {
        Fifo f = fifo;
        if (f != null) {
            // Xen keeps a port's last queue when it is closed and bound again: if it is still that
            // queue's (old) tail, its next link anywhere must forget it there.
            f.leavingQueue(port, PortEntry.vcpu(entry), PortEntry.priority(entry));
        }
        if (PortEntry.type(entry) == PortEntry.VIRQ) {
            int virq = PortEntry.virqNumber(entry);
            for (int slot = virq; slot < virqPorts.length; slot += Virq.COUNT) {
                if (virqPorts[slot] == port) {
                    INT.setRelease(virqPorts, slot, 0);
                }
            }
        }
    }

    @Override
    public int send(int port) {
        if (!ports.isValid(port)) {
            return -EINVAL;
        }
        // One read of the entry, under the stamp that raising the port validates afterwards.
        long stamp = lock.tryOptimisticRead();
        long e = ports.get(port);
        switch (PortEntry.type(e)) {
            case PortEntry.IPI -> {
                counters.sent(port);
                raiseChecked(port, e, stamp);
                return 0;
            }
            case PortEntry.INTERDOMAIN -> {
                counters.sent(port);
                EventDomain peer = domains.get(PortEntry.remoteDom(e));
                if (peer != null) {
                    peer.raiseFrom(PortEntry.remotePort(e), domid, port);
                }
                return 0;
            }
            case PortEntry.UNBOUND -> {
                return 0; // Xen drops it: nobody is connected yet
            }
            default -> {
                return -EINVAL;
            }
        }
    }

    @Override
    public PortStatus status(int dom, int port) {
        int rc = checkSelf(dom);
        if (rc != 0) {
            return PortStatus.failed(rc);
        }
        if (!ports.isValid(port)) {
            return PortStatus.failed(-EINVAL);
        }
        long stamp = lock.readLock();
        try {
            long e = ports.get(port);
            int type = PortEntry.type(e);
            return new PortStatus(0, PortEntry.status(e), PortEntry.vcpu(e),
                    type == PortEntry.UNBOUND || type == PortEntry.INTERDOMAIN ? PortEntry.remoteDom(e) : 0,
                    type == PortEntry.INTERDOMAIN ? PortEntry.remotePort(e) : 0,
                    type == PortEntry.VIRQ ? PortEntry.virqNumber(e) : 0,
                    type == PortEntry.PIRQ ? PortEntry.pirq(e) : 0);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    @Override
    public int bindVcpu(int port, int vcpu) {
        if (!vcpus.vcpuExists(vcpu)) {
            return -ENOENT;
        }
        long stamp = lock.writeLock();
        try {
            if (!ports.isValid(port)) {
                return -EINVAL;
            }
            long e = ports.get(port);
            boolean movable = switch (PortEntry.type(e)) {
                case PortEntry.VIRQ -> Virq.kindOf(PortEntry.virqNumber(e)) != VirqKind.PER_VCPU;
                case PortEntry.UNBOUND, PortEntry.INTERDOMAIN, PortEntry.PIRQ -> true;
                default -> false;
            };
            if (!movable) {
                return -EINVAL;
            }
            Fifo f = fifo;
            if (f != null && PortEntry.vcpu(e) != vcpu) {
                f.leavingQueue(port, PortEntry.vcpu(e), PortEntry.priority(e));
            }
            ports.set(port, PortEntry.withVcpu(e, vcpu));
            return 0;
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    @Override
    public int unmask(int port) {
        if (!ports.isValid(port)) {
            return -EINVAL;
        }
        delivery().unmask(port, PortEntry.vcpu(ports.get(port)));
        return 0;
    }

    /**
     * EVTCHNOP_reset as Xen's evtchn_reset: the sweep closes one port at a time, and other vCPUs
     * may bind meanwhile. If a bind landed behind the sweep, a port is still in use when it ends:
     * the answer is then -EAGAIN and the ABI stays as it was (under FIFO that port may lie beyond
     * 2-level's limit); only an empty table goes back to 2-level, decided under the write lock so
     * that no bind comes between the check and the switch.
     */
    @Override
    public int reset(int dom) {
        int rc = checkSelf(dom);
        if (rc != 0) {
            return rc;
        }
        if (!resetting.compareAndSet(false, true)) {
            return -EBUSY;
        }
        try {
            closeAll();
            long stamp = lock.writeLock();
            try {
                if (ports.boundCount() > 0) {
                    return -EAGAIN;
                }
                backToTwoLevel();
            } finally {
                lock.unlockWrite(stamp);
            }
            return 0;
        } finally {
            resetting.set(false);
        }
    }

    /** Closes every bound port, one at a time, as Xen's reset does. */
    void closeAll() {
        for (int port = 1; port < ports.validPorts(); port++) {
            if (PortEntry.isBound(ports.get(port))) {
                Interdomain.close(this, port, domains);
            }
        }
    }

    /**
     * EVTCHNOP_init_control: vCPU {@code vcpu}'s FIFO control block at {@code offset} in guest
     * frame {@code controlGfn}. The first call moves the domain to the FIFO ABI: ports may go up to
     * 2^17, every port in use gets the default priority, and each 2-level pending bit is carried
     * over (raised once the port's event array page comes). Xen's order: -ENOENT for no such vCPU,
     * -EINVAL for an offset that leaves no room for the 72 bytes or is not 8-byte aligned, then
     * under the lock -EINVAL for a vCPU that has a control block or a frame outside guest RAM (a
     * first call that fails changes nothing).
     */
    @Override
    public int initControl(long controlGfn, int offset, int vcpu) {
        if (!vcpus.vcpuExists(vcpu)) {
            return -ENOENT;
        }
        if (Integer.compareUnsigned(offset, GuestMemory.PAGE_SIZE - EvtchnFifo.CONTROL_BLOCK_SIZE) > 0 || (offset & 7) != 0) {
            return -EINVAL;
        }
        long stamp = lock.writeLock();
        try {
            Fifo f = fifo;
            if (f != null && f.controlBlock(vcpu) != null) {
                return -EINVAL;
            }
            MemorySegment page = vcpus.memory().page(controlGfn);
            if (page == null) {
                return -EINVAL;
            }
            MemorySegment block = page.asSlice(offset, EvtchnFifo.CONTROL_BLOCK_SIZE);
            long gpa = controlGfn * GuestMemory.PAGE_SIZE + offset;
            if (f != null) {
                f.mapControlBlock(vcpu, gpa, block);
                return 0;
            }
            f = newFifo();
            f.mapControlBlock(vcpu, gpa, block);
            for (int port = 1; port < ports.validPorts(); port++) {
                long e = ports.get(port);
                if (PortEntry.isBound(e)) {
                    ports.set(port, PortEntry.withPriority(e, EvtchnFifo.PRIORITY_DEFAULT));
                }
            }
            ports.setLimit(EvtchnFifo.NR_CHANNELS);
            fifo = f; // sends from now on link in FIFO queues; one that raced this is seen again (raisedDuringWrite)
            for (int port = 1; port < ports.validPorts() && port < twoLevel.ports(); port++) {
                if (PortEntry.isBound(ports.get(port)) && twoLevel.takePending(port)) {
                    f.pendingFromTwoLevel(port);
                }
            }
            return 0;
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /**
     * EVTCHNOP_expand_array: one more event array page, at guest frame {@code arrayGfn}. Events
     * raised while their page was missing are raised now. -EOPNOTSUPP before init_control,
     * -ENOSPC past 128 pages, -EINVAL for a frame outside guest RAM.
     */
    @Override
    public int expandArray(long arrayGfn) {
        long stamp = lock.writeLock();
        try {
            Fifo f = fifo;
            if (f == null) {
                return -EOPNOTSUPP;
            }
            if (f.pages() >= EvtchnFifo.MAX_PAGES) {
                return -ENOSPC;
            }
            MemorySegment page = vcpus.memory().page(arrayGfn);
            if (page == null) {
                return -EINVAL;
            }
            int from = f.pages() * EvtchnFifo.WORDS_PER_PAGE;
            f.addPage(arrayGfn, page);
            for (int port : f.takePendingWithoutPage(from, from + EvtchnFifo.WORDS_PER_PAGE)) {
                long e = ports.get(port);
                if (PortEntry.isBound(e)) {
                    f.setPending(port, PortEntry.vcpu(e));
                }
            }
            return 0;
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /**
     * EVTCHNOP_set_priority: -EINVAL for a port that is not valid, -ENOSYS under 2-level, -EINVAL
     * for a priority above 15. An event already queued stays where it is; later ones use the new
     * priority.
     */
    @Override
    public int setPriority(int port, int priority) {
        if (!ports.isValid(port)) {
            return -EINVAL;
        }
        long stamp = lock.writeLock();
        try {
            Fifo f = fifo;
            if (f == null) {
                return -ENOSYS;
            }
            if (Integer.compareUnsigned(priority, EvtchnFifo.PRIORITY_MIN) > 0) {
                return -EINVAL;
            }
            long e = ports.get(port);
            if (PortEntry.isBound(e) && PortEntry.priority(e) != priority) {
                f.leavingQueue(port, PortEntry.vcpu(e), PortEntry.priority(e));
                ports.set(port, PortEntry.withPriority(e, priority));
            }
            return 0;
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    Fifo newFifo() {
        return new Fifo(ports, vcpus.vcpuCount(), twoLevel::markEventsPending, upcalls);
    }

    /** True once the guest moved the domain to the FIFO ABI (until a reset). */
    public boolean isFifo() {
        return fifo != null;
    }

    /**
     * Write lock held, every port closed: back to the 2-level ABI (reset, soft reset). The limit
     * goes first: should a port above it still be in use, setLimit throws before anything changed,
     * and the domain stays whole on FIFO.
     */
    private void backToTwoLevel() {
        if (fifo != null) {
            ports.setLimit(width.twoLevelPorts());
            fifo = null;
        }
    }

    @Override
    long newBinding(long entry) {
        return fifo != null ? PortEntry.withPriority(entry, EvtchnFifo.PRIORITY_DEFAULT) : entry;
    }

    @Override
    IntPredicate busyPorts() {
        Fifo f = fifo;
        return f == null ? null : f::isBusy;
    }

    /**
     * init_control may have switched to FIFO after the sender chose 2-level: its 2-level bit is
     * then taken and raised as a FIFO event, once (the carry-over at init_control takes each bit
     * with the same swap).
     */
    @Override
    void raisedDuringWrite(int port, long entry) {
        Fifo f = fifo;
        if (f != null && twoLevel.takePending(port)) {
            f.setPending(port, PortEntry.vcpu(entry));
        }
    }

    @Override
    public boolean raiseVirq(int virq, int vcpu) {
        if (virq < 0 || virq >= Virq.COUNT || !vcpus.vcpuExists(vcpu)) {
            return false;
        }
        int port = (int) INT.getAcquire(virqPorts, virqSlot(virq, vcpu));
        return port != 0 && raiseOwn(port, PortEntry.VIRQ, virq);
    }

    /** 0 if {@code dom} names this domain, else Xen's answer: -EPERM for another domain, -ESRCH for none. */
    private int checkSelf(int dom) {
        if (dom == DomId.SELF || dom == domid) {
            return 0;
        }
        return domains.get(dom) != null ? -EPERM : -ESRCH;
    }

    /**
     * Soft reset (SCHEDOP_shutdown(soft_reset) or a system reset): every port is closed, the
     * callback and the per-vCPU upcall vectors are forgotten, every vCPU forgets its registered
     * vcpu_info, shared_info leaves the guest's memory, and waiting vCPUs are woken. Ports stay
     * valid (XSA-338). Timers are the caller's to stop. The guest's binds wait until it is done
     * (Xen does it on a paused domain), so the sweep leaves no port open and the switch to
     * 2-level always succeeds.
     */
    public void softReset() {
        long gate = bindGate.writeLock();
        try {
            closeAll();
            upcallRouting.reset();
            long stamp = lock.writeLock();
            try {
                backToTwoLevel();
                vcpuInfos.reset();
            } finally {
                lock.unlockWrite(stamp);
            }
        } finally {
            bindGate.unlockWrite(gate);
        }
        waits.wakeAll();
    }

    // ---- waiting for events (SCHEDOP_block, SCHEDOP_poll) -------------------------------------

    /**
     * SCHEDOP_block: the calling thread, as vCPU {@code vcpu}, waits until that vCPU has an upcall
     * pending, {@code deadline} (System.nanoTime; Long.MAX_VALUE for none) passes, or the thread
     * is interrupted.
     */
    public void block(int vcpu, long deadline) {
        waits.await(vcpu, null, deadline, () -> upcallPending(vcpu));
    }

    /**
     * SCHEDOP_poll: waits as {@link #block} does, and also until one of {@code polled} is pending,
     * masked or not. Returns 0, or -EINVAL without waiting if a port is not valid (including one
     * never allocated: XSA-221). An upcall that is already pending ends the poll at once only if
     * {@code interruptsEnabled} (Xen's HVM local_events_need_delivery: a vCPU polling with IF=0,
     * as after VCPUOP_register_vcpu_info marked everything pending, waits for its ports); a new
     * upcall while it waits ends it either way, as Xen's vcpu_kick does.
     */
    public int poll(int vcpu, int[] polled, long deadline, boolean interruptsEnabled) {
        for (int port : polled) {
            if (!ports.isValid(port)) {
                return -EINVAL;
            }
        }
        waits.await(vcpu, polled, deadline, () -> (interruptsEnabled && upcallPending(vcpu)) || anyPending(polled));
        return 0;
    }

    /** Ends every block and poll at once (the domain shuts down or resets). */
    public void wakeWaiters() {
        waits.wakeAll();
    }

    private boolean upcallPending(int vcpu) {
        return ((byte) UPCALL_PENDING.getVolatile(vcpuInfos.of(vcpu), 0L) & 1) != 0;
    }

    private boolean anyPending(int[] polled) {
        for (int port : polled) {
            if (delivery().isPending(port)) {
                return true;
            }
        }
        return false;
    }

    // ---- delivery ----------------------------------------------------------------------------

    /** The ABI in use. */
    private EventDelivery delivery() {
        Fifo f = fifo;
        return f != null ? f : twoLevel;
    }

    @Override
    void setPending(int port, int vcpu) {
        delivery().setPending(port, vcpu);
    }

    @Override
    void clearPending(int port) {
        if (!dying) {
            delivery().clearPending(port);
        }
    }

    /** How upcalls reach the vCPUs (the callback and per-vCPU vectors). */
    public UpcallRouting upcalls() {
        return upcallRouting;
    }

    /**
     * Makes shared_info appear at guest frame {@code gfn} (XENMEM_add_to_physmap); its contents
     * move with it. Returns 0 or -EINVAL for a frame outside guest RAM. Guests map it once at boot,
     * before they bind ports; a send racing the move may leave its bit in the old page.
     */
    public int mapSharedInfo(long gfn) {
        MemorySegment page = vcpus.memory().page(gfn);
        if (page == null) {
            return -EINVAL;
        }
        long stamp = lock.writeLock();
        try {
            vcpuInfos.moveSharedInfo(gfn, page);
            return 0;
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /**
     * VCPUOP_register_vcpu_info: vCPU {@code vcpu}'s vcpu_info moves to {@code offset} in guest
     * frame {@code gfn}, with what it held; everything is then marked pending on it so that no
     * event is lost. Answers -ENOENT for no such vCPU; -EINVAL for an offset that leaves no room
     * for the 64 bytes or is not 8-byte aligned (the words are updated atomically), a frame
     * outside guest RAM, or a vCPU that registered one already.
     */
    public int registerVcpuInfo(int vcpu, long gfn, int offset) {
        if (!vcpus.vcpuExists(vcpu)) {
            return -ENOENT;
        }
        if (offset < 0 || offset > GuestMemory.PAGE_SIZE - VcpuInfoLayout.SIZE || (offset & 7) != 0) {
            return -EINVAL;
        }
        MemorySegment page = vcpus.memory().page(gfn);
        if (page == null) {
            return -EINVAL;
        }
        long stamp = lock.writeLock();
        try {
            if (!vcpuInfos.register(vcpu, gfn * GuestMemory.PAGE_SIZE + offset, page.asSlice(offset, VcpuInfoLayout.SIZE))) {
                return -EINVAL;
            }
        } finally {
            lock.unlockWrite(stamp);
        }
        delivery().vcpuInfoMoved(vcpu);
        return 0;
    }

    /** The shared_info page as it is now (host memory until the guest maps it). */
    public MemorySegment sharedInfo() {
        return vcpuInfos.sharedInfo();
    }

    /** vCPU {@code vcpu}'s vcpu_info as it is now. */
    public MemorySegment vcpuInfo(int vcpu) {
        return vcpuInfos.of(vcpu);
    }

    /** The port's pending bit as the guest sees it. */
    public boolean isPending(int port) {
        return ports.isValid(port) && delivery().isPending(port);
    }

    /** The port's mask bit as the guest sees it. */
    public boolean isMasked(int port) {
        return ports.isValid(port) && delivery().isMasked(port);
    }

    /**
     * The host-side invariants, for fuzzing and model tests: every VIRQ slot names a port bound to
     * that VIRQ (on that vCPU, for a per-vCPU one) and every VIRQ port is in its slot; the port
     * limit is the one of the ABI that delivers, and no port in use lies at or above it (else
     * sends on it would reach no bitmap). Null if they hold, else what is wrong. Takes the read lock.
     */
    String selfCheck() {
        long stamp = lock.readLock();
        try {
            int limit = fifo != null ? EvtchnFifo.NR_CHANNELS : width.twoLevelPorts();
            if (ports.limit() != limit) {
                return "the port limit is " + ports.limit() + " but the ABI in use (" + (fifo != null ? "FIFO" : "2-level")
                        + ") has " + limit;
            }
            for (int slot = 0; slot < virqPorts.length; slot++) {
                int port = virqPorts[slot];
                if (port == 0) {
                    continue;
                }
                long e = ports.get(port);
                int virq = slot % Virq.COUNT;
                if (!PortEntry.is(e, PortEntry.VIRQ, virq)) {
                    return "VIRQ slot " + slot + " names port " + port + ", which is not bound to VIRQ " + virq;
                }
            }
            for (int port = 1; port < ports.validPorts(); port++) {
                long e = ports.get(port);
                if (port >= limit && PortEntry.isBound(e)) {
                    return "port " + port + " is in use at or above the limit " + limit;
                }
                if (PortEntry.type(e) == PortEntry.VIRQ) {
                    int virq = PortEntry.virqNumber(e);
                    int slot = virqSlot(virq, PortEntry.vcpu(e));
                    if (virqPorts[slot] != port) {
                        return "port " + port + " is bound to VIRQ " + virq + " but its slot names " + virqPorts[slot];
                    }
                }
            }
            return ports.validPorts() <= EvtchnFifo.NR_CHANNELS ? null : "valid ports beyond any ABI's limit: " + ports.validPorts();
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** The VIRQ table slot of {@code virq} bound on {@code vcpu}: a per-vCPU VIRQ's own, any other's on vCPU 0. */
    static int virqSlot(int virq, int vcpu) {
        return (Virq.kindOf(virq) == VirqKind.PER_VCPU ? vcpu : 0) * Virq.COUNT + virq;
    }

    /**
     * A dying domain's memory is not written again: closing its ports as it goes leaves the
     * guest's pending bits as they were, for a save taken before to find them where it left them.
     */
    void dying() {
        dying = true;
    }

    /** Raises {@code port} whatever it is bound to (QEMU's xen-event-inject): 0, or -EINVAL if it is not in use. */
    public int injectEvent(int port) {
        return inject(port) ? 0 : -EINVAL;
    }

    /** Ports valid so far (Xen's valid_evtchns). */
    public int validPorts() {
        return ports.validPorts();
    }

    /**
     * Xen's check of a domid argument that must name the caller (e.g. in XENMEM_add_to_physmap,
     * HVMOP_set_param): 0 for DOMID_SELF or this domain's id, -EPERM for another existing domain
     * (the host's included), -ESRCH for none.
     */
    public int checkTarget(int dom) {
        return checkSelf(dom);
    }
}

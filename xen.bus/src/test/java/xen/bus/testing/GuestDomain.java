package xen.bus.testing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import kvm.provider.software.SoftwareBackend;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.GrantEntry;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.SharedInfoLayout;
import xen.evtchn.api.abi.XenMapSpace;
import xen.evtchn.api.abi.XenMem;
import xen.evtchn.api.abi.hypercall.AddToPhysmap;
import xen.evtchn.api.host.DomainHandle;

/**
 * One guest domain as its kernel sets it up for frontends, played in Java: its shared_info and
 * grant table frame 0 mapped by XENMEM_add_to_physmap through the host's hypercall handler, a
 * XenStore client on its ring ({@link GuestStore}), pages of its RAM to hand out, grants written
 * in its table as Linux's gnttab_grant_foreign_access does, and event channels to dom0
 * (alloc_unbound, send, and the pending bits in its shared_info). Made by {@link BusHost#domain}.
 * <p>
 * Guest-physical layout: gfn 1 shared_info, gfn 2 grant table frame 0, gfn 3 hypercall arguments,
 * pages from gfn 16 up ({@link #allocPage}). Grant references from 8 (the first 8 are reserved,
 * GNTTAB_NR_RESERVED_ENTRIES) to 511.
 */
public final class GuestDomain {
    static final long SHARED_INFO_GFN = 1;
    static final long GRANT_TABLE_GFN = 2;
    static final long ARGS_GFN = 3;
    static final long FIRST_PAGE_GFN = 16;
    private static final VarHandle FLAGS_AND_DOMID = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle PENDING = ValueLayout.JAVA_LONG.varHandle();
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final BusHost host;
    private final DomainHandle handle;
    private final SoftwareBackend vcpus;
    private final GuestStore store;
    private final MemorySegment sharedInfo;
    private final MemorySegment grantTable;
    private long nextPage = FIRST_PAGE_GFN;
    private int nextRef = GrantEntry.NR_RESERVED;

    GuestDomain(BusHost host, DomainHandle handle, SoftwareBackend vcpus, HypercallHandler hypercalls) {
        this(host, handle, vcpus, hypercalls, null);
    }

    /**
     * The guest's kernel, carrying on in a restored domain whose memory is {@code saved}'s copied:
     * shared_info and the grant table are where {@code saved} mapped them (they came back with the
     * stream), and pages and grant references are handed out after the ones {@code saved} gave.
     */
    GuestDomain(BusHost host, DomainHandle handle, SoftwareBackend vcpus, HypercallHandler hypercalls, GuestDomain saved) {
        this.host = host;
        this.handle = handle;
        this.vcpus = vcpus;
        GuestMemory memory = vcpus.memory();
        if (saved == null) {
            addToPhysmap(hypercalls, memory, XenMapSpace.SHARED_INFO, 0, SHARED_INFO_GFN);
            addToPhysmap(hypercalls, memory, XenMapSpace.GRANT_TABLE, 0, GRANT_TABLE_GFN);
        } else {
            synchronized (saved) {
                this.nextPage = saved.nextPage;
                this.nextRef = saved.nextRef;
            }
        }
        this.sharedInfo = memory.page(SHARED_INFO_GFN);
        this.grantTable = memory.page(GRANT_TABLE_GFN);
        this.store = new GuestStore(memory.page(handle.hvmParam(HvmParam.STORE_PFN)),
                (int) handle.hvmParam(HvmParam.STORE_EVTCHN), handle.eventChannels());
    }

    private void addToPhysmap(HypercallHandler hypercalls, GuestMemory memory, int space, long idx, long gpfn) {
        long args = ARGS_GFN * GuestMemory.PAGE_SIZE;
        new AddToPhysmap(DomId.SELF, 0, space, idx, gpfn).write(memory.slice(args, AddToPhysmap.size(GuestWidth.X86_64)),
                GuestWidth.X86_64);
        long rc = hypercalls.hypercall(new GuestHypercall(Hypercall.MEMORY_OP, handle.domid(),
                new long[] {XenMem.ADD_TO_PHYSMAP, args}, memory));
        if (rc != 0) {
            throw new AssertionError("dom" + handle.domid() + ": XENMEM_add_to_physmap(space " + space + ") = " + rc);
        }
    }

    public int domid() {
        return handle.domid();
    }

    /** The host's handle of the domain. */
    public DomainHandle handle() {
        return handle;
    }

    /** Its software vCPUs and memory. */
    public SoftwareBackend vcpus() {
        return vcpus;
    }

    /** The guest's XenStore client, on its ring. */
    public GuestStore store() {
        return store;
    }

    /** The host the domain runs on. */
    public BusHost host() {
        return host;
    }

    /** The frontend of device {@code type}/{@code devid} as this guest's driver for it. */
    public GuestFrontend frontend(String type, int devid) {
        return new GuestFrontend(this, type, devid);
    }

    // ---- pages and grants ----

    /** A free page of the guest's RAM (zeroed), by gfn. */
    public synchronized long allocPage() {
        long gfn = nextPage++;
        MemorySegment page = page(gfn);
        if (page == null || gfn >= BusHost.RAM / GuestMemory.PAGE_SIZE) {
            throw new AssertionError("dom" + domid() + ": out of pages");
        }
        page.fill((byte) 0);
        return gfn;
    }

    /** The guest's page {@code gfn}. */
    public MemorySegment page(long gfn) {
        return vcpus.memory().page(gfn);
    }

    /**
     * Grants dom0 access to page {@code gfn} (read-only if {@code readOnly}), as
     * gnttab_grant_foreign_access: frame and domid first, then the flags. Returns the reference.
     */
    public synchronized int grant(long gfn, boolean readOnly) {
        if (nextRef >= GrantEntry.PER_FRAME) {
            throw new AssertionError("dom" + domid() + ": out of grant references");
        }
        int ref = nextRef++;
        grantAs(ref, gfn, GrantEntry.GTF_PERMIT_ACCESS | (readOnly ? GrantEntry.GTF_READONLY : 0));
        return ref;
    }

    /** Writes entry {@code ref} with any {@code flags} for dom0 (tests of forged or odd grants). */
    public void grantAs(int ref, long gfn, int flags) {
        long at = (long) ref * GrantEntry.SIZE;
        grantTable.set(U32, at + GrantEntry.FRAME, (int) gfn);
        FLAGS_AND_DOMID.setVolatile(grantTable, at, flags & 0xffff); // domid 0 in the high half (little endian)
    }

    /** The entry's flags now (GTF_reading/GTF_writing show a backend's use). */
    public int grantFlags(int ref) {
        return (int) FLAGS_AND_DOMID.getVolatile(grantTable, (long) ref * GrantEntry.SIZE) & 0xffff;
    }

    /**
     * gnttab_end_foreign_access_ref: clears the entry unless a backend is reading or writing the
     * page; whether it did.
     */
    public boolean endAccess(int ref) {
        long at = (long) ref * GrantEntry.SIZE;
        while (true) {
            int word = (int) FLAGS_AND_DOMID.getVolatile(grantTable, at);
            if ((word & (GrantEntry.GTF_READING | GrantEntry.GTF_WRITING)) != 0) {
                return false;
            }
            if (FLAGS_AND_DOMID.compareAndSet(grantTable, at, word, 0)) {
                return true;
            }
        }
    }

    // ---- event channels ----

    /** EVTCHNOP_alloc_unbound(DOMID_SELF, remote dom0): the port a frontend offers its backend. */
    public int allocUnbound() {
        int port = handle.eventChannels().allocUnbound(DomId.SELF, DomId.HOST);
        if (port <= 0) {
            throw new AssertionError("dom" + domid() + ": alloc_unbound = " + port);
        }
        return port;
    }

    /** EVTCHNOP_send on {@code port}. */
    public void notify(int port) {
        int rc = handle.eventChannels().send(port);
        if (rc != 0) {
            throw new AssertionError("dom" + domid() + ": send(" + port + ") = " + rc);
        }
    }

    /** EVTCHNOP_close of {@code port}; Xen's result. */
    public int closePort(int port) {
        return handle.eventChannels().close(port);
    }

    /** Takes {@code port}'s pending bit in shared_info (test and clear, as the guest's upcall handler); whether it was set. */
    public boolean takeEvent(int port) {
        long at = SharedInfoLayout.X86_64.evtchnPending() + (long) (port / 64) * Long.BYTES;
        long bit = 1L << (port % 64);
        return ((long) PENDING.getAndBitwiseAnd(sharedInfo, at, ~bit) & bit) != 0;
    }

    /** Waits up to 20 s for an event on {@code port} and takes it. */
    public void awaitEvent(int port) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!takeEvent(port)) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("dom" + domid() + ": no event on port " + port);
            }
            sleep();
        }
    }

    static void sleep() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }
}

package xen.block.front;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import kvm.provider.software.SoftwareBackend;
import xen.evtchn.api.EventChannels;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.GrantEntry;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.XenMapSpace;
import xen.evtchn.api.abi.XenMem;
import xen.evtchn.api.abi.hypercall.AddToPhysmap;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.GuestHost;

/**
 * A guest domain whose kernel is the test: a one-vCPU software domain whose first act (on its vCPU)
 * is to map grant table frame 0 into RAM, as Linux's gnttab_init does; afterwards the test gives
 * out its pages ({@link #page()}), grants them to domain 0 ({@link #grant}) and makes its EVTCHNOP
 * calls through {@link #events()}, as a frontend driver would.
 */
public final class TestGuest implements FrontGuest, AutoCloseable {
    private static final long TABLE_GFN = 1;
    private static final long ARG = 0x100;
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    private final GuestHost host;
    private final int domid;
    private final SoftwareBackend vcpus;
    private final DomainHandle domain;
    private final MemorySegment ram;
    private final long frames;
    private long nextGfn = TABLE_GFN + 1;
    private int nextRef = GrantEntry.NR_RESERVED;

    public TestGuest(GuestHost host, int domid, long ramBytes) throws InterruptedException {
        this.host = host;
        this.domid = domid;
        this.vcpus = new SoftwareBackend(domid, 1, ramBytes, host.hypercalls());
        this.domain = host.createDomain(domid, vcpus, line -> { });
        this.ram = vcpus.memory().ram();
        this.frames = ramBytes / 4096;
        long[] rc = new long[1];
        vcpus.start(cpu -> {
            new AddToPhysmap(DomId.SELF, 0, XenMapSpace.GRANT_TABLE, 0, TABLE_GFN).write(ram.asSlice(ARG, 24), GuestWidth.X86_64);
            rc[0] = cpu.hypercall(Hypercall.MEMORY_OP, XenMem.ADD_TO_PHYSMAP, ARG);
        });
        if (!vcpus.join(Duration.ofSeconds(10)) || rc[0] != 0) {
            throw new IllegalStateException("dom" + domid + ": add_to_physmap(grant_table) gave " + rc[0]);
        }
    }

    @Override
    public int domid() {
        return domid;
    }

    public DomainHandle domain() {
        return domain;
    }

    public EventChannels events() {
        return domain.eventChannels();
    }

    @Override
    public long allocPage() {
        if (nextGfn >= frames) {
            throw new IllegalStateException("dom" + domid + ": out of pages");
        }
        long gfn = nextGfn++;
        frame(gfn).fill((byte) 0);
        return gfn;
    }

    /** The guest's view of frame {@code gfn}. */
    public MemorySegment frame(long gfn) {
        return ram.asSlice(gfn * 4096, 4096);
    }

    @Override
    public MemorySegment frames(long gfn, int count) {
        return ram.asSlice(gfn * 4096, count * 4096L);
    }

    /**
     * Grants frame {@code gfn} to domain 0 (gnttab_grant_foreign_access): frame and domid first,
     * then the flags with release, so the host never sees a half-written entry.
     */
    @Override
    public int grant(long gfn, boolean readOnly) {
        if (nextRef >= GrantEntry.PER_FRAME) {
            throw new IllegalStateException("dom" + domid + ": grant table frame 0 is full");
        }
        int ref = nextRef++;
        setEntry(ref, gfn, GrantEntry.GTF_PERMIT_ACCESS | (readOnly ? GrantEntry.GTF_READONLY : 0));
        return ref;
    }

    /** Grant {@code ref}'s flags as the guest sees them (GTF_reading/GTF_writing while the host uses it). */
    public int grantFlags(int ref) {
        return GrantEntry.flags((int) U32.getAcquire(ram, TABLE_GFN * 4096 + (long) ref * GrantEntry.SIZE + GrantEntry.FLAGS));
    }

    /** Ends grant {@code ref} (its flags cleared), as gnttab_end_foreign_access. */
    public void revoke(int ref) {
        U32.setRelease(ram, TABLE_GFN * 4096 + (long) ref * GrantEntry.SIZE + GrantEntry.FLAGS, GrantEntry.word(0, 0));
    }

    private void setEntry(int ref, long gfn, int flags) {
        long at = TABLE_GFN * 4096 + (long) ref * GrantEntry.SIZE;
        ram.set(ValueLayout.JAVA_INT, at + GrantEntry.FRAME, (int) gfn);
        U32.setRelease(ram, at + GrantEntry.FLAGS, GrantEntry.word(flags, DomId.HOST));
    }

    @Override
    public int allocUnbound() {
        int port = events().allocUnbound(DomId.SELF, DomId.HOST);
        if (port <= 0) {
            throw new IllegalStateException("alloc_unbound: " + port);
        }
        return port;
    }

    @Override
    public void notify(int port) {
        int rc = events().send(port);
        if (rc != 0) {
            throw new IllegalStateException("EVTCHNOP_send: " + rc);
        }
    }

    @Override
    public void close() {
        host.destroyDomain(domid);
        vcpus.close();
    }
}

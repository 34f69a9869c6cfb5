package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import kvm.provider.software.SoftwareBackend;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.hypercall.EventChannelOpHandler;

/**
 * Shared test fixture: a {@link Domains} with guest domains on software vCPU backends, shared_info
 * mapped into guest RAM, and guest-side views of the 2-level bits read straight from guest RAM at
 * the reference offsets (xen-abi.md "2-level ABI in guest memory"), not through the code under
 * test.
 */
final class EvtchnFixture implements AutoCloseable {
    /** 1 MiB of guest memory per domain, the backend's special frames its last pages: nothing a guest can reach lies at or above it. */
    static final long RAM = 1L << 20;
    /** Guest frame where each guest maps shared_info. */
    static final long SHARED_INFO_GFN = 0x10;
    /** The callback every guest configures (HVM_PARAM_CALLBACK_IRQ type 2). */
    static final UpcallRoute.Vector CALLBACK = new UpcallRoute.Vector(0xf3);

    static final int SELF = DomId.SELF;
    static final int EPERM = -Errno.EPERM;
    static final int ENOENT = -Errno.ENOENT;
    static final int ESRCH = -Errno.ESRCH;
    static final int EFAULT = -Errno.EFAULT;
    static final int EEXIST = -Errno.EEXIST;
    static final int EINVAL = -Errno.EINVAL;
    static final int ENOSPC = -Errno.ENOSPC;
    static final int ENOSYS = -Errno.ENOSYS;
    static final int EOPNOTSUPP = -Errno.EOPNOTSUPP;

    final Domains domains = new Domains();
    final EventChannelOpHandler handler = new EventChannelOpHandler(domains);
    private final List<SoftwareBackend> backends = new ArrayList<>();

    /** A guest domain with {@code vcpus} vCPUs, shared_info mapped at {@link #SHARED_INFO_GFN}, callback set. */
    Guest guest(int domid, GuestWidth width, int vcpus) {
        SoftwareBackend b = backend(domid, vcpus);
        GuestEventChannels d = domains.create(domid, width, b);
        assertEquals(0, d.mapSharedInfo(SHARED_INFO_GFN), "mapSharedInfo");
        d.upcalls().setCallback(CALLBACK);
        return new Guest(d, b, width);
    }

    /** A backend created outside {@link #guest}, closed with the fixture. */
    SoftwareBackend backend(int domid, int vcpus) {
        SoftwareBackend b = new SoftwareBackend(domid, vcpus, RAM - SoftwareBackend.SPECIAL_FRAMES * 4096L, handler);
        backends.add(b);
        return b;
    }

    @Override
    public void close() {
        for (SoftwareBackend b : backends) {
            b.close();
        }
    }

    /** The port limit the reference gives for a width: 4096 for 64-bit, 1024 for 32-bit guests. */
    static int limitOf(GuestWidth w) {
        return w == GuestWidth.X86_64 ? 4096 : 1024;
    }

    /** A guest domain and its guest-visible 2-level state. */
    static final class Guest {
        private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        final GuestEventChannels d;
        final SoftwareBackend b;
        final GuestWidth w;
        final int limit;
        final int bits;
        /** Reference offsets, written out literally. */
        final long pendingOff = 0x800;
        final long maskOff;
        final long selOff;

        Guest(GuestEventChannels d, SoftwareBackend b, GuestWidth w) {
            this.d = d;
            this.b = b;
            this.w = w;
            this.limit = limitOf(w);
            this.bits = w == GuestWidth.X86_64 ? 64 : 32;
            this.maskOff = w == GuestWidth.X86_64 ? 0xA00 : 0x880;
            this.selOff = w == GuestWidth.X86_64 ? 8 : 4;
        }

        int domid() {
            return d.domid();
        }

        GuestMemory memory() {
            return b.memory();
        }

        /** shared_info as the guest sees it, in its own RAM. */
        MemorySegment sharedInfo() {
            return b.memory().ram().asSlice(SHARED_INFO_GFN * GuestMemory.PAGE_SIZE, GuestMemory.PAGE_SIZE);
        }

        MemorySegment vcpuInfo(int vcpu) {
            return sharedInfo().asSlice(vcpu * 64L, 64);
        }

        private long word(long base, int index) {
            MemorySegment s = sharedInfo();
            return bits == 64 ? s.get(U64, base + index * 8L) : Integer.toUnsignedLong(s.get(U32, base + index * 4L));
        }

        private void setWord(long base, int index, long value) {
            MemorySegment s = sharedInfo();
            if (bits == 64) {
                s.set(U64, base + index * 8L, value);
            } else {
                s.set(U32, base + index * 4L, (int) value);
            }
        }

        long pendingWord(int index) {
            return word(pendingOff, index);
        }

        long maskWord(int index) {
            return word(maskOff, index);
        }

        boolean pending(int port) {
            return (pendingWord(port / bits) >>> (port % bits) & 1) != 0;
        }

        boolean masked(int port) {
            return (maskWord(port / bits) >>> (port % bits) & 1) != 0;
        }

        /** The guest masks a port by setting its bit in evtchn_mask itself. */
        void mask(int port) {
            setWord(maskOff, port / bits, maskWord(port / bits) | 1L << (port % bits));
        }

        /** The guest clears a port's pending bit (as Linux does before handling it). */
        void clearPendingBit(int port) {
            setWord(pendingOff, port / bits, pendingWord(port / bits) & ~(1L << (port % bits)));
        }

        /** True if any evtchn_pending bit is set. */
        boolean anyPending() {
            for (int i = 0; i < bits; i++) {
                if (pendingWord(i) != 0) {
                    return true;
                }
            }
            return false;
        }

        long pendingSel(int vcpu) {
            MemorySegment v = vcpuInfo(vcpu);
            return bits == 64 ? v.get(U64, selOff) : Integer.toUnsignedLong(v.get(U32, selOff));
        }

        void setPendingSel(int vcpu, long value) {
            MemorySegment v = vcpuInfo(vcpu);
            if (bits == 64) {
                v.set(U64, selOff, value);
            } else {
                v.set(U32, selOff, (int) value);
            }
        }

        int upcallPending(int vcpu) {
            return Byte.toUnsignedInt(vcpuInfo(vcpu).get(ValueLayout.JAVA_BYTE, 0));
        }

        void setUpcallPending(int vcpu, int value) {
            vcpuInfo(vcpu).set(ValueLayout.JAVA_BYTE, 0, (byte) value);
        }

        /** What a Linux guest does in its upcall handler: clear upcall_pending, take pending_sel, clear the port's pending bit. */
        void guestAcknowledges(int vcpu, int port) {
            setUpcallPending(vcpu, 0);
            setPendingSel(vcpu, 0);
            clearPendingBit(port);
        }

        /** Upcalls the backend counted on {@code vcpu}. */
        long upcalls(int vcpu) {
            return b.vcpu(vcpu).upcallsDelivered();
        }

        long totalUpcalls() {
            long n = 0;
            for (int v = 0; v < b.vcpuCount(); v++) {
                n += upcalls(v);
            }
            return n;
        }

        /** Asserts that port's event reached vcpu: pending bit, pending_sel bit, upcall_pending. */
        void assertDelivered(int port, int vcpu) {
            assertTrue(pending(port), "evtchn_pending bit of port " + port);
            assertEquals(1L, pendingSel(vcpu) >>> (port / bits) & 1, "pending_sel bit " + port / bits + " of vCPU " + vcpu);
            assertEquals(1, upcallPending(vcpu) & 1, "upcall_pending of vCPU " + vcpu);
        }

        PortStatus status(int port) {
            return d.status(SELF, port);
        }

        /** alloc_unbound(SELF, SELF) until -ENOSPC; returns the ports in allocation order. */
        List<Integer> fill() {
            List<Integer> got = new ArrayList<>();
            for (int i = 0; i < 5000; i++) {
                int p = d.allocUnbound(SELF, SELF);
                if (p < 0) {
                    assertEquals(ENOSPC, p, "the only failure of alloc_unbound(SELF) is a full table");
                    return got;
                }
                got.add(p);
            }
            throw new AssertionError("alloc_unbound never answered -ENOSPC");
        }
    }

    /** event_channel_op({@code cmd}, {@code address}) from {@code g}'s vCPU 0: the only hypercall these tests make. */
    static GuestCall evtchnCall(Guest g, long cmd, long address) {
        return GuestCall.of(Hypercall.EVENT_CHANNEL_OP, g.domid(), 0, g.w == GuestWidth.X86_64, g.memory(), cmd, address);
    }
}

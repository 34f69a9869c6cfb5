package xen.evtchn.impl.hypercall;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import kvm.provider.software.SoftwareBackend;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.DomainTable;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.time.DomainTime;
import xen.evtchn.impl.time.GuestClock;
import xen.evtchn.impl.time.ManualTimerProvider;

/**
 * Guest domains on software vCPUs with a {@link Domain} each, and one
 * {@link HypercallDispatcher} holding event_channel_op and the four platform families. Tests make
 * their hypercalls through the dispatcher with a {@link Call} whose structs live in guest RAM
 * (guest-virtual = guest-physical), and read the results back from guest RAM at the reference
 * offsets, written out literally.
 */
final class PlatformFixture implements AutoCloseable {
    /** 1 MiB of guest memory per domain, the backend's special frames its last pages: nothing a guest can reach lies at or above it. */
    static final long RAM = 1L << 20;
    /** Where tests put argument structs: well inside RAM. */
    static final long ARG = 0x3000;
    /** A guest address past the end of RAM. */
    static final long OUTSIDE = RAM + 0x1000;

    static final int XEN_VERSION = 17;
    static final int MEMORY_OP = 12;
    static final int HVM_OP = 34;
    static final int CONSOLE_IO = 18;
    static final int EVENT_CHANNEL_OP = 32;
    static final int DOMID_SELF = 0x7FF0;

    static final int EPERM = -1;
    static final int ENOENT = -2;
    static final int ESRCH = -3;
    static final int EFAULT = -14;
    static final int EINVAL = -22;
    static final int ENOSYS = -38;
    static final int EOPNOTSUPP = -95;

    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final Domains domains = new Domains();
    final DomainTable platforms = new DomainTable();
    final HypercallDispatcher dispatcher = new HypercallDispatcher();
    final HypercallFamilies families = new HypercallFamilies(domains, platforms, ShutdownListener.NONE);
    private final List<SoftwareBackend> backends = new ArrayList<>();

    PlatformFixture() {
        families.registerWith(dispatcher);
    }

    /** A 64-bit guest with one vCPU and the default platform. */
    Guest guest(int domid) {
        return guest(domid, GuestWidth.X86_64, 1);
    }

    Guest guest(int domid, GuestWidth width, int vcpus) {
        SoftwareBackend b = backend(domid, vcpus);
        GuestEventChannels d = domains.create(domid, width, b);
        return new Guest(platform(d), b, dispatcher);
    }

    /** A guest whose platform has {@code console}. */
    Guest guest(int domid, DomainConsole console) {
        SoftwareBackend b = backend(domid, 1);
        GuestEventChannels d = domains.create(domid, GuestWidth.X86_64, b);
        return new Guest(platform(d, XenVersionInfo.DEFAULT, console), b, dispatcher);
    }

    /** A platform with the default version, an in-memory console, and time on a clock the test moves. */
    Domain platform(GuestEventChannels d) {
        return platform(d, XenVersionInfo.DEFAULT, DomainConsole.inMemory());
    }

    Domain platform(GuestEventChannels d, XenVersionInfo version, DomainConsole console) {
        ManualTimerProvider clock = new ManualTimerProvider(0);
        DomainTime time = new DomainTime(new GuestClock(clock::now, 0), d.vcpus().vcpuCount(), clock,
                d.vcpus().tscHz(), 0, 0, vcpu -> d.raiseVirq(0, vcpu));
        return platforms.create(d, version, console, time);
    }

    SoftwareBackend backend(int domid, int vcpus) {
        SoftwareBackend b = new SoftwareBackend(domid, vcpus, RAM - SoftwareBackend.SPECIAL_FRAMES * 4096L, dispatcher);
        backends.add(b);
        return b;
    }

    @Override
    public void close() {
        for (SoftwareBackend b : backends) {
            b.close();
        }
    }

    /** A guest domain, its platform, its software vCPUs, and the dispatcher its hypercalls go to. */
    record Guest(Domain p, SoftwareBackend b, HypercallDispatcher dispatcher) {
        GuestEventChannels d() {
            return p.events();
        }

        int domid() {
            return p.domid();
        }

        GuestMemory memory() {
            return b.memory();
        }

        MemorySegment ram() {
            return b.memory().ram();
        }

        /** {@code size} bytes of guest RAM at {@code gpa}. */
        MemorySegment at(long gpa, long size) {
            return ram().asSlice(gpa, size);
        }

        /** Fills {@code size} bytes at {@code gpa} with {@code value}. */
        void fill(long gpa, long size, int value) {
            at(gpa, size).fill((byte) value);
        }

        byte[] bytes(long gpa, int size) {
            return at(gpa, size).toArray(ValueLayout.JAVA_BYTE);
        }

        /** A hypercall from vCPU 0 at CPL 0 in 64-bit mode. */
        long call(int number, long... args) {
            return call(Call.of(this, number, args));
        }

        /** The same from a 32-bit caller: arguments are zero-extended 32-bit registers. */
        long call32(int number, long... args) {
            long[] regs = Arrays.copyOf(args, 5);
            for (int i = 0; i < regs.length; i++) {
                regs[i] &= 0xFFFF_FFFFL;
            }
            return call(new Call(number, domid(), 0, false, 0, regs, memory()));
        }

        long call(Call c) {
            return dispatcher.hypercall(c);
        }
    }

    /** A hypercall as a backend hands it over. */
    record Call(int number, int domid, int vcpu, boolean longMode, int cpl, long[] args, GuestMemory memory)
            implements HypercallContext {
        static Call of(Guest g, int number, long... args) {
            return new Call(number, g.domid(), 0, true, 0, Arrays.copyOf(args, 5), g.memory());
        }

        Call withCpl(int newCpl) {
            return new Call(number, domid, vcpu, longMode, newCpl, args, memory);
        }

        Call withVcpu(int newVcpu) {
            return new Call(number, domid, newVcpu, longMode, cpl, args, memory);
        }

        Call withDomid(int newDomid) {
            return new Call(number, newDomid, vcpu, longMode, cpl, args, memory);
        }

        @Override
        public long arg(int index) {
            return args[index];
        }

        @Override
        public MemorySegment guest(long address, long length) {
            return memory.slice(address, length);
        }
    }

    /** Asserts that {@code gpa}..{@code gpa+size} of guest RAM still holds {@code expected}. */
    static void assertUnchanged(Guest g, long gpa, byte[] expected, String what) {
        byte[] now = g.bytes(gpa, expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], now[i], what + ": byte " + i + " changed");
        }
    }
}

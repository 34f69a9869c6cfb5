package kvm.provider.xen;

import static kvm.provider.kvm.KvmTestSupport.bytes;
import static kvm.provider.kvm.KvmTestSupport.expectExit;
import static kvm.provider.kvm.KvmTestSupport.expectHlt;
import static kvm.provider.kvm.KvmTestSupport.expectOut;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import kvm.provider.boot.KvmLongModeTest;
import kvm.provider.kvm.KvmExit;
import kvm.provider.kvm.KvmCap;
import kvm.provider.kvm.KvmSystem;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.EvtchnOp;
import xen.evtchn.api.abi.Hypercall;

/**
 * End to end: a 64-bit guest calls event_channel_op(EVTCHNOP_alloc_unbound, &amp;struct) through
 * the hypercall page; {@link KvmHypercallExits} hands it to a test handler that reads and writes the
 * struct through {@link HypercallContext#guest}. Skipped where /dev/kvm or the capabilities are unusable.
 */
class KvmHypercallExitsTest {
    private static final int DOMID = 1;
    private static final long STRUCT = 0x3000;
    private static final int DOMID_SELF = 0x7ff0;
    private static final int PORT = 5;
    /** Where the guest's first {@code out 0xe9} lies (see {@link #GUEST}). */
    private static final long OUT_E9 = KvmLongModeTest.CODE + 0x2c;

    /**
     * <pre>
     * 0x00 mov ecx, 0x40000000; mov eax, 0x2000; xor edx, edx; wrmsr
     * 0x0e mov edi, 6; mov esi, 0x3000
     * 0x18 mov dword [rsi], 0x7ff07ff0; mov dword [rsi+4], 0xffffffff
     * 0x25 mov eax, 0x2000 + 32 * 32; call rax
     * 0x2c out 0xe9, eax; mov eax, [rsi+4]; out 0xe9, eax; hlt
     * </pre>
     */
    private static final byte[] GUEST = bytes(0xb9, 0x00, 0x00, 0x00, 0x40, 0xb8, 0x00, 0x20, 0x00, 0x00, 0x31, 0xd2,
            0x0f, 0x30, 0xbf, 0x06, 0x00, 0x00, 0x00, 0xbe, 0x00, 0x30, 0x00, 0x00, 0xc7, 0x06, 0xf0, 0x7f, 0xf0, 0x7f,
            0xc7, 0x46, 0x04, 0xff, 0xff, 0xff, 0xff, 0xb8, 0x00, 0x24, 0x00, 0x00, 0xff, 0xd0, 0xe7, 0xe9, 0x8b, 0x46,
            0x04, 0xe7, 0xe9, 0xf4);

    @BeforeEach
    void kvmHere() {
        String why = KvmSystem.unavailableReason();
        assumeTrue(why == null, () -> "KVM not usable here, skipped: " + why);
        try (KvmSystem kvm = KvmSystem.open()) {
            assumeTrue(kvm.checkExtension(KvmCap.X86_USER_SPACE_MSR) > 0,
                    "KVM_CAP_X86_USER_SPACE_MSR absent, skipped");
            assumeTrue(kvm.checkExtension(KvmCap.X86_MSR_FILTER) > 0, "KVM_CAP_X86_MSR_FILTER absent, skipped");
        }
    }

    /** What the handler saw. */
    private record Seen(int number, int domid, int vcpu, boolean longMode, int cpl, long cmd, long arg, int dom,
            int remoteDom) {
    }

    /** alloc_unbound as a test stands-in for the real one: port {@link #PORT}, result 0. */
    private static HypercallHandler allocUnbound(List<Seen> seen) {
        return call -> {
            MemorySegment s = call.guest(call.arg(1), EvtchnOp.ALLOC_UNBOUND.argSize());
            if (s == null) {
                return -14; // -EFAULT
            }
            seen.add(new Seen(call.number(), call.domid(), call.vcpu(), call.longMode(), call.cpl(), call.arg(0),
                    call.arg(1), Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0)),
                    Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2))));
            s.set(ValueLayout.JAVA_INT_UNALIGNED, 4, PORT);
            return 0;
        };
    }

    @Test
    void allocUnboundThroughSyncRegs() {
        KvmHypercallPageTest.assumeSyncRegs();
        allocUnbound(true);
    }

    @Test
    void allocUnboundWithoutSyncRegs() {
        allocUnbound(false);
    }

    private void allocUnbound(boolean sync) {
        List<Seen> seen = new ArrayList<>();
        HypercallHandler handler = allocUnbound(seen);
        KvmLongModeTest.runGuest(GUEST, (vm, vcpu, ram) -> {
            KvmExit.WrMsr msr = expectExit(vcpu, KvmExit.WrMsr.class);
            assertTrue(HypercallPage.handleWrmsr(vcpu, msr, ram), "page installed");

            KvmExit.Io call = expectExit(vcpu, KvmExit.Io.class);
            assertTrue(KvmHypercallExits.handle(vcpu, call, () -> ram, DOMID, handler), "a hypercall exit");
            assertEquals(1, seen.size(), "handled once");
            assertEquals(new Seen(Hypercall.EVENT_CHANNEL_OP, DOMID, 0, true, 0, EvtchnOp.ALLOC_UNBOUND.number(),
                    STRUCT, DOMID_SELF, DOMID_SELF), seen.get(0));

            KvmExit.Io out = expectOut(vcpu, 0xe9, 0); // rax = the handler's result
            assertFalse(KvmHypercallExits.handle(vcpu, out, () -> ram, DOMID, handler), "not a hypercall exit");
            if (sync) {
                // Another port than 0x7e: upstream KVM (VMX/SVM fast PIO) steps over the out when the
                // vCPU re-enters, so rip still points at it; the software KVM measured here (kvm_pvm)
                // has already stepped over it. Either way the guest resumes after it, once.
                long rip = vcpu.syncedRegs().rip();
                assertTrue(rip == OUT_E9 || rip == OUT_E9 + 2, () -> "rip at an ordinary out exit: 0x"
                        + Long.toHexString(rip));
            }
            expectOut(vcpu, 0xe9, PORT); // the guest reads the port the handler wrote
            expectHlt(vcpu);
            assertEquals(1, seen.size(), "the stub's out was not executed twice");
            assertEquals(PORT, ram.get(ValueLayout.JAVA_INT, STRUCT + 4), "port field");
        }, HypercallPage::trapMsr, vcpu -> {
            if (sync) {
                vcpu.enableSyncRegs();
            }
        });
    }

    @Test
    void aFaultingAddressReachesTheHandlerAsNull() {
        KvmLongModeTest.runGuest(GUEST, (vm, vcpu, ram) -> {
            assertTrue(HypercallPage.handleWrmsr(vcpu, expectExit(vcpu, KvmExit.WrMsr.class), ram), "page installed");
            KvmExit.Io call = expectExit(vcpu, KvmExit.Io.class);
            List<MemorySegment> got = new ArrayList<>();
            // Past the end of RAM (identity-mapped RAM only): unmapped.
            assertTrue(KvmHypercallExits.handle(vcpu, call, () -> ram, DOMID, c -> {
                got.add(c.guest(KvmLongModeTest.RAM_SIZE - 4, 8));
                got.add(c.guest(c.arg(1), 8));
                return -14;
            }));
            assertEquals(null, got.get(0), "beyond RAM");
            assertNotNull(got.get(1), "the struct");
            expectOut(vcpu, 0xe9, -14);
        }, HypercallPage::trapMsr, vcpu -> { });
    }
}

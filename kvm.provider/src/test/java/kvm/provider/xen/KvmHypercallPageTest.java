package kvm.provider.xen;

import static kvm.provider.kvm.KvmTestSupport.bytes;
import static kvm.provider.kvm.KvmTestSupport.expectExit;
import static kvm.provider.kvm.KvmTestSupport.expectHlt;
import static kvm.provider.kvm.KvmTestSupport.expectOut;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import kvm.provider.boot.KvmLongModeTest;
import kvm.provider.boot.LongMode;
import kvm.provider.kvm.KvmCap;
import kvm.provider.kvm.KvmExit;
import kvm.provider.kvm.KvmRegs;
import kvm.provider.kvm.KvmSregs;
import kvm.provider.kvm.KvmSystem;
import kvm.provider.kvm.KvmVcpu;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.Hypercall;

/**
 * A 64-bit guest installs the hypercall page with wrmsr (trapped to user space by the MSR filter)
 * and calls event_channel_op through it. Skipped where /dev/kvm or the MSR capabilities are unusable.
 */
class KvmHypercallPageTest {
    private static final long PAGE = 0x2000;
    private static final int ARG = 0xabc;
    private static final int RESULT = 0x77;
    /** The guest address of the event_channel_op stub. */
    private static final long STUB_32 = PAGE + 32 * HypercallPage.STUB_SIZE;
    /**
     * mov ecx, 0x40000000; mov eax, 0x2000; xor edx, edx; wrmsr; mov edi, 0xabc;
     * mov eax, 0x2000 + 32 * 32; call rax; out 0xe9, eax; hlt
     */
    private static final byte[] GUEST = bytes(0xb9, 0x00, 0x00, 0x00, 0x40, 0xb8, 0x00, 0x20, 0x00, 0x00, 0x31, 0xd2,
            0x0f, 0x30, 0xbf, 0xbc, 0x0a, 0x00, 0x00, 0xb8, 0x00, 0x24, 0x00, 0x00, 0xff, 0xd0, 0xe7, 0xe9, 0xf4);

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

    @Test
    void stubsAreMovOutRet() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(HypercallPage.PAGE_SIZE);
            HypercallPage.fill(page);
            byte[] stub = page.asSlice(32L * 32, 32).toArray(ValueLayout.JAVA_BYTE);
            assertEquals(0xb8, stub[0] & 0xff);
            assertEquals(32, page.get(ValueLayout.JAVA_INT_UNALIGNED, 32L * 32 + 1));
            assertEquals(0xe7, stub[5] & 0xff);
            assertEquals(HypercallPage.PORT, stub[6] & 0xff);
            assertEquals(0xc3, stub[7] & 0xff);
            assertEquals(0xcc, stub[8] & 0xff);
        }
    }

    @Test
    void guestInstallsThePageAndMakesAHypercall() {
        KvmLongModeTest.runGuest(GUEST, (vm, vcpu, ram) -> {
            KvmExit.WrMsr msr = expectExit(vcpu, KvmExit.WrMsr.class);
            assertEquals(HypercallPage.MSR, msr.index(), "msr index");
            assertEquals(PAGE, msr.data(), "page address");
            assertEquals(KvmExit.MSR_REASON_FILTER, msr.reason(), "msr exit reason");
            assertTrue(HypercallPage.handleWrmsr(vcpu, msr, ram), "handled");
            assertEquals(0xb8, ram.get(ValueLayout.JAVA_BYTE, PAGE) & 0xff, "stub 0 written");

            KvmExit.Io call = expectOut(vcpu, HypercallPage.PORT, Hypercall.EVENT_CHANNEL_OP);
            assertTrue(HypercallPage.isHypercall(call), "a hypercall exit");
            KvmRegs regs = vcpu.getRegs();
            assertEquals(Hypercall.EVENT_CHANNEL_OP, (int) regs.rax(), "rax = hypercall number");
            assertEquals(ARG, regs.rdi(), "first argument");
            vcpu.setRegs(regs.withRax(RESULT));

            expectOut(vcpu, 0xe9, RESULT);
            expectHlt(vcpu);
        }, HypercallPage::trapMsr, vcpu -> { });
    }

    @Test
    void hypercallThroughSyncRegs() {
        assumeSyncRegs();
        KvmLongModeTest.runGuest(GUEST, (vm, vcpu, ram) -> {
            assertTrue(HypercallPage.handleWrmsr(vcpu, expectExit(vcpu, KvmExit.WrMsr.class), ram), "handled");

            expectOut(vcpu, HypercallPage.PORT, Hypercall.EVENT_CHANNEL_OP);
            KvmRegs regs = vcpu.syncedRegs();
            assertEquals(Hypercall.EVENT_CHANNEL_OP, (int) regs.rax(), "rax = hypercall number, from sync regs");
            assertEquals(ARG, regs.rdi(), "first argument, from sync regs");
            // Port 0x7e: KVM (KVM_X86_QUIRK_OUT_7E_INC_RIP) has already stepped over the 2-byte out.
            assertEquals(STUB_32 + 7, regs.rip(), "rip at the exit: after the out, at the ret");
            KvmSregs sregs = vcpu.syncedSregs();
            assertEquals(1, sregs.cs().l(), "cs.l from sync sregs");
            assertEquals(LongMode.CODE_SELECTOR, sregs.cs().selector(), "cs from sync sregs");
            assertEquals(KvmLongModeTest.TABLES + LongMode.PAGE, sregs.cr3(), "cr3 from sync sregs");
            assertEquals(vcpu.getRegs(), regs, "sync regs = KVM_GET_REGS");
            assertEquals(vcpu.getSregs(), sregs, "sync sregs = KVM_GET_SREGS");
            vcpu.setSyncedRax(RESULT);

            expectOut(vcpu, 0xe9, RESULT);
            assertEquals(0, vcpu.dirtyRegs(), "KVM cleared dirty");
            assertEquals(RESULT, vcpu.syncedRegs().rax(), "rax synced at the next exit");
            expectHlt(vcpu);
        }, HypercallPage::trapMsr, KvmVcpu::enableSyncRegs);
    }

    /** Skips unless KVM_CAP_SYNC_REGS offers both regs and sregs. */
    static void assumeSyncRegs() {
        try (KvmSystem kvm = KvmSystem.open()) {
            int sync = kvm.checkExtension(KvmCap.SYNC_REGS);
            long wanted = KvmVcpu.SYNC_X86_REGS | KvmVcpu.SYNC_X86_SREGS;
            assumeTrue((sync & wanted) == wanted, () -> "KVM_CAP_SYNC_REGS = " + sync + ", skipped");
        }
    }

    @Test
    void aMisalignedPageAddressFaultsTheGuest() {
        byte[] guest = GUEST.clone();
        guest[6] = 0x01; // mov eax, 0x2001
        KvmLongModeTest.runGuest(guest, (vm, vcpu, ram) -> {
            assertTrue(HypercallPage.handleWrmsr(vcpu, expectExit(vcpu, KvmExit.WrMsr.class), ram), "handled");
            assertEquals(0, ram.get(ValueLayout.JAVA_BYTE, PAGE), "no stubs written");
            // #GP with no IDT: a triple fault.
            expectExit(vcpu, KvmExit.Shutdown.class);
        }, HypercallPage::trapMsr, vcpu -> { });
    }
}

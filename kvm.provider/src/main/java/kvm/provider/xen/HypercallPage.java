package kvm.provider.xen;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import kvm.provider.kvm.KvmExit;
import kvm.provider.kvm.KvmMsrFilterRange;
import kvm.provider.kvm.KvmCap;
import kvm.provider.kvm.KvmVcpu;
import kvm.provider.kvm.KvmVm;

/**
 * Xen hypercalls without in-kernel Xen support: the guest's wrmsr of {@link #MSR} (announced in
 * CPUID leaf 0x40000002 by {@link XenCpuid}) is denied by an MSR filter so that it exits to user
 * space, which fills the page it names with one 32-byte stub per hypercall number,
 * {@code mov $nr,%eax; out %eax,$PORT; ret} ({@code b8 <nr:u32> e7 <port> c3}, the rest int3).
 * A hypercall is then a KVM_EXIT_IO: a 4-byte OUT to {@link #PORT} with eax = the number and the
 * arguments in rdi, rsi, rdx, r10, r8; the host writes the result to rax and resumes.
 */
public final class HypercallPage {
    /** The MSR a guest writes a page address to, to have the hypercall page installed there. */
    public static final int MSR = 0x40000000;
    /**
     * The I/O port the stubs write the hypercall number to; 0x7e is unused on a PC (between the
     * CMOS ports 0x70-0x71 and the POST port 0x80) and fits the stub's 8-bit port immediate.
     */
    public static final int PORT = 0x7e;
    public static final int STUB_SIZE = 32;
    public static final int STUBS = 128;
    public static final long PAGE_SIZE = 4096;

    static final byte MOV_EAX_IMM32 = (byte) 0xb8;
    static final byte OUT_IMM8_EAX = (byte) 0xe7;
    static final byte RET = (byte) 0xc3;
    static final byte INT3 = (byte) 0xcc;

    private HypercallPage() {
    }

    /**
     * Makes the guest's writes of {@link #MSR} exit to user space as KVM_EXIT_X86_WRMSR:
     * KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR, KVM_MSR_EXIT_REASON_FILTER) and an MSR filter
     * that allows everything but that write. Replaces any MSR filter the VM had.
     */
    public static void trapMsr(KvmVm vm) {
        vm.enableCap(KvmCap.X86_USER_SPACE_MSR, KvmExit.MSR_REASON_FILTER);
        vm.setMsrFilter(KvmVm.MSR_FILTER_DEFAULT_ALLOW,
                List.of(KvmMsrFilterRange.denyAll(KvmMsrFilterRange.WRITE, MSR, 1)));
    }

    /** Writes the stubs for numbers 0..127 into {@code page} ({@link #PAGE_SIZE} bytes). */
    public static void fill(MemorySegment page) {
        if (page.byteSize() != PAGE_SIZE) {
            throw new IllegalArgumentException("a hypercall page is " + PAGE_SIZE + " bytes, not " + page.byteSize());
        }
        page.fill(INT3);
        for (int nr = 0; nr < STUBS; nr++) {
            long at = (long) nr * STUB_SIZE;
            page.set(ValueLayout.JAVA_BYTE, at, MOV_EAX_IMM32);
            page.set(ValueLayout.JAVA_INT_UNALIGNED, at + 1, nr);
            page.set(ValueLayout.JAVA_BYTE, at + 5, OUT_IMM8_EAX);
            page.set(ValueLayout.JAVA_BYTE, at + 6, (byte) PORT);
            page.set(ValueLayout.JAVA_BYTE, at + 7, RET);
        }
    }

    /**
     * Handles the vCPU's wrmsr exit {@code msr} if it is of {@link #MSR}: fills the page at the
     * written guest-physical address in {@code ram} (mapped at guest-physical 0) and completes the
     * wrmsr, or makes it #GP if the address is not a page inside {@code ram} (the low 12 bits,
     * Xen's page index, must be 0: there is one page). Returns false, touching nothing, for another MSR.
     */
    public static boolean handleWrmsr(KvmVcpu vcpu, KvmExit.WrMsr msr, MemorySegment ram) {
        if (msr.index() != MSR) {
            return false;
        }
        long gpa = msr.data();
        boolean ok = gpa >= 0 && gpa % PAGE_SIZE == 0 && gpa <= ram.byteSize() - PAGE_SIZE;
        if (ok) {
            fill(ram.asSlice(gpa, PAGE_SIZE));
        }
        vcpu.completeMsr(ok);
        return true;
    }

    /** Whether {@code io} is a hypercall from a stub: a 4-byte OUT to {@link #PORT}. */
    public static boolean isHypercall(KvmExit.Io io) {
        return io.isOut() && io.port() == PORT && io.size() == 4 && io.count() == 1;
    }
}

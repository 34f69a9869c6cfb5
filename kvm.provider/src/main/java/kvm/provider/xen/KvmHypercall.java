package kvm.provider.xen;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import kvm.provider.kvm.KvmRegs;
import kvm.provider.kvm.KvmSegment;
import kvm.provider.kvm.KvmSregs;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.HypercallContext;

/**
 * One hypercall as a vCPU made it through the {@link HypercallPage} (a KVM_EXIT_IO on
 * {@link HypercallPage#PORT}, eax = the number), captured from its registers at that exit.
 *
 * <ul>
 * <li>{@link #longMode()}: EFER.LMA and cs.l (a compatibility-mode caller is 32-bit);
 * <li>{@link #cpl()}: the RPL of the cs selector (0 with protection off);
 * <li>{@link #arg}: rdi, rsi, rdx, r10, r8 for a 64-bit caller; ebx, ecx, edx, esi, edi
 * zero-extended for a 32-bit one;
 * <li>{@link #guest}: the guest-virtual range translated by walking the guest's page tables in
 * RAM, with no ioctl (KVM_TRANSLATE would cost one per call).
 * </ul>
 *
 * <p>Translation supports paging off (identity) and 4-level long-mode paging with 4 KiB, 2 MiB and
 * 1 GiB pages, checking present bits only (not writable/user: the hypervisor accesses the memory
 * on the guest's behalf). 32-bit paging, 32-bit PAE paging and 5-level paging are not supported:
 * {@link #guest} answers null there. A range mapped throughout and physically contiguous within
 * RAM (or within one extra page, {@link GuestMemory#extraPage}) is a view of it. A range whose
 * pages are mapped but scattered (a struct on a Linux vmap'd stack that crosses a page) is a copy,
 * as Xen's copy_from_guest makes: {@link #finish()} writes the bytes the handler changed back to
 * their pages, as copy_to_guest would. Such copies are at most {@value #MAX_COPY} bytes (larger
 * scattered ranges get null).
 *
 * <p>Captured values; the context is valid for the one hypercall and is not thread-safe beyond
 * what RAM itself is.
 */
public final class KvmHypercall implements HypercallContext {
    static final long CR0_PE = 1L;
    static final long CR0_PG = 1L << 31;
    static final long CR4_PAE = 1L << 5;
    static final long CR4_LA57 = 1L << 12;
    static final long EFER_LMA = 1L << 10;

    static final long PAGE = 4096;
    /** The largest scattered range {@link #guest} copies (a guest's argument structs are far smaller). */
    static final int MAX_COPY = 64 << 10;
    static final long PTE_P = 1;
    static final long PTE_PS = 0x80;
    /** Physical-address bits 12..51 of a page-table entry. */
    static final long ADDR_MASK = 0x000f_ffff_ffff_f000L;
    static final long ADDR_MASK_2M = 0x000f_ffff_ffe0_0000L;
    static final long ADDR_MASK_1G = 0x000f_ffff_c000_0000L;

    static final long RFLAGS_IF = 1L << 9;
    private static final long CS_SELECTOR = KvmSregs.CS + KvmSegment.SELECTOR, CS_L = KvmSregs.CS + KvmSegment.L;

    private final GuestMemory memory;
    private final int domid;
    private final int vcpu;
    private final int number;
    private final boolean longMode;
    private final int cpl;
    private final boolean interruptsEnabled;
    private final long arg0, arg1, arg2, arg3, arg4;
    private final long cr0, cr3, cr4, efer;
    /** Copies of scattered ranges handed out by {@link #guest}, for {@link #finish()}; null if none. */
    private List<ScatteredCopy> copies;

    /** A scattered range's copy, what it held, and where each page's piece of it lives in RAM. */
    private record ScatteredCopy(MemorySegment copy, byte[] original, long[] pieceGpas, int startOffset) {
    }

    private KvmHypercall(GuestMemory memory, int domid, int vcpu, long rax, long rbx, long rcx, long rdx, long rsi,
            long rdi, long r8, long r10, long rflags, int csSelector, int csL, long cr0, long cr3, long cr4, long efer) {
        this.memory = memory;
        this.domid = domid;
        this.vcpu = vcpu;
        this.number = (int) rax;
        this.longMode = (efer & EFER_LMA) != 0 && csL != 0;
        this.cpl = (cr0 & CR0_PE) == 0 ? 0 : csSelector & 3;
        this.interruptsEnabled = (rflags & RFLAGS_IF) != 0;
        if (longMode) {
            arg0 = rdi;
            arg1 = rsi;
            arg2 = rdx;
            arg3 = r10;
            arg4 = r8;
        } else {
            arg0 = rbx & 0xffff_ffffL;
            arg1 = rcx & 0xffff_ffffL;
            arg2 = rdx & 0xffff_ffffL;
            arg3 = rsi & 0xffff_ffffL;
            arg4 = rdi & 0xffff_ffffL;
        }
        this.cr0 = cr0;
        this.cr3 = cr3;
        this.cr4 = cr4;
        this.efer = efer;
    }

    /** From registers read with KVM_GET_REGS / KVM_GET_SREGS; {@code memory} is the guest's. */
    public static KvmHypercall of(GuestMemory memory, int domid, int vcpu, KvmRegs regs, KvmSregs sregs) {
        return new KvmHypercall(memory, domid, vcpu, regs.rax(), regs.rbx(), regs.rcx(), regs.rdx(), regs.rsi(),
                regs.rdi(), regs.r8(), regs.r10(), regs.rflags(), sregs.cs().selector(), sregs.cs().l(), sregs.cr0(), sregs.cr3(),
                sregs.cr4(), sregs.efer());
    }

    /**
     * From a kvm_regs image {@code regs} and a kvm_sregs image {@code sregs}, e.g. the sync-regs
     * views of {@link KvmVcpu#syncedRegsSegment()} and {@link KvmVcpu#syncedSregsSegment()}: no
     * ioctl, no intermediate records.
     */
    public static KvmHypercall of(GuestMemory memory, int domid, int vcpu, MemorySegment regs, MemorySegment sregs) {
        return new KvmHypercall(memory, domid, vcpu, l(regs, KvmRegs.RAX), l(regs, KvmRegs.RBX), l(regs, KvmRegs.RCX),
                l(regs, KvmRegs.RDX), l(regs, KvmRegs.RSI), l(regs, KvmRegs.RDI), l(regs, KvmRegs.R8),
                l(regs, KvmRegs.R10), l(regs, KvmRegs.RFLAGS),
                Short.toUnsignedInt(sregs.get(ValueLayout.JAVA_SHORT, CS_SELECTOR)),
                Byte.toUnsignedInt(sregs.get(ValueLayout.JAVA_BYTE, CS_L)), l(sregs, KvmSregs.CR0),
                l(sregs, KvmSregs.CR3), l(sregs, KvmSregs.CR4), l(sregs, KvmSregs.EFER));
    }

    private static long l(MemorySegment m, long at) {
        return m.get(ValueLayout.JAVA_LONG, at);
    }

    @Override
    public int number() {
        return number;
    }

    @Override
    public int domid() {
        return domid;
    }

    @Override
    public int vcpu() {
        return vcpu;
    }

    @Override
    public boolean longMode() {
        return longMode;
    }

    @Override
    public boolean interruptsEnabled() {
        return interruptsEnabled;
    }

    @Override
    public int cpl() {
        return cpl;
    }

    @Override
    public long arg(int index) {
        return switch (index) {
            case 0 -> arg0;
            case 1 -> arg1;
            case 2 -> arg2;
            case 3 -> arg3;
            case 4 -> arg4;
            default -> throw new IndexOutOfBoundsException("hypercall argument " + index + " (0..4)");
        };
    }

    @Override
    public MemorySegment guest(long address, long length) {
        if (length < 0 || length > memory.size()) {
            return null;
        }
        if (!longMode) {
            address &= 0xffff_ffffL;
        }
        long gpa = translate(address);
        if (gpa < 0) {
            return null;
        }
        long firstPage = address & ~(PAGE - 1);
        long lastByte = length == 0 ? address : address + length - 1;
        if (lastByte < address || (!longMode && lastByte > 0xffff_ffffL)) {
            return null; // wraps around
        }
        int pages = (int) (((lastByte & ~(PAGE - 1)) - firstPage) / PAGE) + 1;
        boolean contiguous = true;
        for (int i = 1; i < pages && contiguous; i++) {
            long next = translate(firstPage + i * PAGE);
            if (next < 0) {
                return null;
            }
            contiguous = next == gpa + (firstPage + i * PAGE - address);
        }
        if (contiguous) {
            return memory.slice(gpa, length);
        }
        return length > MAX_COPY ? null : scatteredCopy(address, (int) length, firstPage, pages);
    }

    /** A copy of a mapped range whose pages are not contiguous in RAM, or null if one lies outside RAM. */
    private MemorySegment scatteredCopy(long address, int length, long firstPage, int pages) {
        long[] pieceGpas = new long[pages];
        byte[] original = new byte[length];
        MemorySegment bytes = MemorySegment.ofArray(original);
        for (int i = 0, at = 0; i < pages; i++) {
            long va = i == 0 ? address : firstPage + i * PAGE;
            int n = (int) Math.min(length - at, PAGE - (va & (PAGE - 1)));
            long piece = translate(va);
            MemorySegment from = piece < 0 ? null : memory.slice(piece, n);
            if (from == null) {
                return null;
            }
            pieceGpas[i] = piece;
            MemorySegment.copy(from, 0, bytes, at, n);
            at += n;
        }
        // long[]-backed, so that the codecs' aligned accesses work on it as on RAM
        MemorySegment copy = MemorySegment.ofArray(new long[(length + 7) / 8]).asSlice(0, length);
        MemorySegment.copy(bytes, 0, copy, 0, length);
        if (copies == null) {
            copies = new ArrayList<>(2);
        }
        copies.add(new ScatteredCopy(copy, original, pieceGpas, (int) (address & (PAGE - 1))));
        return copy;
    }

    /**
     * Writes back what the handler changed in the scattered copies {@link #guest} handed out: only
     * the bytes that differ from what was read, so fields the handler left alone are not
     * rewritten. Call once, after the handler. Nothing to do for views of RAM.
     */
    void finish() {
        if (copies == null) {
            return;
        }
        for (ScatteredCopy c : copies) {
            long length = c.original().length;
            for (int i = 0; i < length; i++) {
                byte now = c.copy().get(ValueLayout.JAVA_BYTE, i);
                if (now != c.original()[i]) {
                    long offsetInRange = i + c.startOffset();
                    int piece = (int) (offsetInRange / PAGE);
                    long pieceStart = piece == 0 ? 0 : piece * PAGE - c.startOffset();
                    memory.slice(c.pieceGpas()[piece] + (i - pieceStart), 1).set(ValueLayout.JAVA_BYTE, 0, now);
                }
            }
        }
        copies = null;
    }

    /** The guest-physical address of virtual {@code va}, or -1 if it is not mapped (or paging is unsupported). */
    long translate(long va) {
        return translate(memory.ram(), cr0, cr3, cr4, efer, va);
    }

    /**
     * Walks the page tables in {@code ram} (at guest-physical 0) for virtual address {@code va}:
     * the guest-physical address, or -1 if not present, if a table lies outside RAM, if the
     * address is not canonical, or if the paging mode is not supported (see the class comment).
     */
    static long translate(MemorySegment ram, long cr0, long cr3, long cr4, long efer, long va) {
        if ((cr0 & CR0_PG) == 0) {
            return va;
        }
        if ((efer & EFER_LMA) == 0 || (cr4 & CR4_PAE) == 0 || (cr4 & CR4_LA57) != 0) {
            return -1;
        }
        if ((va << 16) >> 16 != va) {
            return -1; // not canonical
        }
        long pml4e = entry(ram, cr3 & ADDR_MASK, (va >>> 39) & 511);
        if ((pml4e & PTE_P) == 0) {
            return -1;
        }
        long pdpte = entry(ram, pml4e & ADDR_MASK, (va >>> 30) & 511);
        if ((pdpte & PTE_P) == 0) {
            return -1;
        }
        if ((pdpte & PTE_PS) != 0) {
            return (pdpte & ADDR_MASK_1G) | (va & ((1L << 30) - 1));
        }
        long pde = entry(ram, pdpte & ADDR_MASK, (va >>> 21) & 511);
        if ((pde & PTE_P) == 0) {
            return -1;
        }
        if ((pde & PTE_PS) != 0) {
            return (pde & ADDR_MASK_2M) | (va & ((1L << 21) - 1));
        }
        long pte = entry(ram, pde & ADDR_MASK, (va >>> 12) & 511);
        if ((pte & PTE_P) == 0) {
            return -1;
        }
        return (pte & ADDR_MASK) | (va & (PAGE - 1));
    }

    /** Entry {@code index} of the table at {@code table}, or 0 (not present) if it lies outside RAM. */
    private static long entry(MemorySegment ram, long table, long index) {
        long at = table + 8 * index;
        if (at > ram.byteSize() - 8) {
            return 0;
        }
        return ram.get(ValueLayout.JAVA_LONG, at);
    }
}

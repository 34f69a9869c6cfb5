package kvm.provider.kvm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * struct kvm_regs (144 bytes): rax @0, rbx, rcx, rdx, rsi, rdi, rsp, rbp @56, r8 @64 .. r15 @120,
 * rip @128, rflags @136 ({@link #LAYOUT}).
 */
public record KvmRegs(long rax, long rbx, long rcx, long rdx, long rsi, long rdi, long rsp, long rbp, long r8,
        long r9, long r10, long r11, long r12, long r13, long r14, long r15, long rip, long rflags) {
    /** The struct, one u64 per register in the record's order. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(reg("rax"), reg("rbx"), reg("rcx"), reg("rdx"),
            reg("rsi"), reg("rdi"), reg("rsp"), reg("rbp"), reg("r8"), reg("r9"), reg("r10"), reg("r11"), reg("r12"),
            reg("r13"), reg("r14"), reg("r15"), reg("rip"), reg("rflags"));
    static final long SIZE = LAYOUT.byteSize();
    /** Offsets of the registers read in place (in kvm_run's sync regs). */
    public static final long RAX = offset("rax"), RBX = offset("rbx"), RCX = offset("rcx"), RDX = offset("rdx"),
            RSI = offset("rsi"), RDI = offset("rdi"), R8 = offset("r8"), R10 = offset("r10"), RIP = offset("rip"),
            RFLAGS = offset("rflags");

    /** All zero but rflags = 2 (its reserved bit 1). */
    public static KvmRegs initial() {
        return new KvmRegs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);
    }

    public KvmRegs withRip(long value) {
        return new KvmRegs(rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, value, rflags);
    }

    public KvmRegs withRsp(long value) {
        return new KvmRegs(rax, rbx, rcx, rdx, rsi, rdi, value, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags);
    }

    public KvmRegs withRax(long value) {
        return new KvmRegs(value, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags);
    }

    public KvmRegs withRflags(long value) {
        return new KvmRegs(rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, value);
    }

    private static ValueLayout reg(String name) {
        return ValueLayout.JAVA_LONG.withName(name);
    }

    private static long offset(String name) {
        return LAYOUT.byteOffset(PathElement.groupElement(name));
    }

    /** The registers in the kvm_regs image {@code m}. */
    public static KvmRegs read(MemorySegment m) {
        long[] v = new long[18];
        for (int i = 0; i < v.length; i++) {
            v[i] = m.get(ValueLayout.JAVA_LONG, 8L * i);
        }
        return new KvmRegs(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
                v[14], v[15], v[16], v[17]);
    }

    /** Writes these registers as a kvm_regs image into {@code m}. */
    public void write(MemorySegment m) {
        long[] v = {rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags};
        for (int i = 0; i < v.length; i++) {
            m.set(ValueLayout.JAVA_LONG, 8L * i, v[i]);
        }
    }
}

package kvm.provider.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;

/**
 * struct kvm_msr_filter_range (24 bytes): flags u32 @0 ({@link #READ}/{@link #WRITE}), nmsrs u32 @4,
 * base u32 @8, bitmap pointer @16. Bit i of {@code bitmap} covers MSR base + i: set allows the
 * access, clear denies it (with KVM_MSR_EXIT_REASON_FILTER enabled, a denied access exits to user
 * space). KVM copies the bitmap during KVM_X86_SET_MSR_FILTER.
 */
public record KvmMsrFilterRange(int flags, int base, int nmsrs, byte[] bitmap) {
    /** KVM_MSR_FILTER_READ: the range filters rdmsr. */
    public static final int READ = 1;
    /** KVM_MSR_FILTER_WRITE: the range filters wrmsr. */
    public static final int WRITE = 2;
    static final long SIZE = 24;

    public KvmMsrFilterRange {
        if (bitmap.length * 8L < nmsrs) {
            throw new IllegalArgumentException("bitmap of " + bitmap.length + " bytes for " + nmsrs + " MSRs");
        }
        bitmap = bitmap.clone();
    }

    @Override
    public byte[] bitmap() {
        return bitmap.clone();
    }

    /** A range of {@code nmsrs} MSRs from {@code base} whose {@code flags} accesses are all denied. */
    public static KvmMsrFilterRange denyAll(int flags, int base, int nmsrs) {
        return new KvmMsrFilterRange(flags, base, nmsrs, new byte[(nmsrs + 7) / 8]);
    }

    void write(MemorySegment m, long at, SegmentAllocator allocator) {
        m.set(ValueLayout.JAVA_INT, at, flags);
        m.set(ValueLayout.JAVA_INT, at + 4, nmsrs);
        m.set(ValueLayout.JAVA_INT, at + 8, base);
        m.set(ValueLayout.JAVA_INT, at + 12, 0);
        m.set(ValueLayout.ADDRESS, at + 16, allocator.allocateFrom(ValueLayout.JAVA_BYTE, bitmap));
    }
}

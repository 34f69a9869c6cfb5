package kvm.provider.kvm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * struct kvm_cpuid_entry2 (40 bytes): function @0, index @4, flags @8, eax @12, ebx, ecx, edx @24,
 * padding[3]. Inside struct kvm_cpuid2: nent u32 @0, padding u32, entries from @8.
 */
public record KvmCpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {
    static final StructLayout LAYOUT = MemoryLayout.structLayout(u32("function"), u32("index"), u32("flags"),
            u32("eax"), u32("ebx"), u32("ecx"), u32("edx"), MemoryLayout.paddingLayout(12));
    static final long SIZE = LAYOUT.byteSize();
    /** struct kvm_cpuid2 without its entries: nent u32, padding u32. */
    static final StructLayout CPUID2_HEADER = MemoryLayout.structLayout(u32("nent"), MemoryLayout.paddingLayout(4));
    /** Offset of the entries in struct kvm_cpuid2. */
    static final long ENTRIES = CPUID2_HEADER.byteSize();
    /** KVM_CPUID_FLAG_SIGNIFCANT_INDEX: the leaf has sub-leaves chosen by ecx (index). */
    public static final int FLAG_SIGNIFICANT_INDEX = 1;

    /** A leaf without sub-leaves. */
    public static KvmCpuidEntry leaf(int function, int eax, int ebx, int ecx, int edx) {
        return new KvmCpuidEntry(function, 0, 0, eax, ebx, ecx, edx);
    }

    private static ValueLayout u32(String name) {
        return ValueLayout.JAVA_INT.withName(name);
    }

    static long cpuid2Size(int nent) {
        return ENTRIES + SIZE * nent;
    }

    static List<KvmCpuidEntry> readAll(MemorySegment cpuid2) {
        int nent = cpuid2.get(ValueLayout.JAVA_INT, 0);
        List<KvmCpuidEntry> entries = new ArrayList<>(nent);
        for (int i = 0; i < nent; i++) {
            long at = ENTRIES + SIZE * i;
            int[] v = new int[7];
            for (int j = 0; j < v.length; j++) {
                v[j] = cpuid2.get(ValueLayout.JAVA_INT, at + 4L * j);
            }
            entries.add(new KvmCpuidEntry(v[0], v[1], v[2], v[3], v[4], v[5], v[6]));
        }
        return entries;
    }

    static void writeAll(MemorySegment cpuid2, List<KvmCpuidEntry> entries) {
        cpuid2.fill((byte) 0);
        cpuid2.set(ValueLayout.JAVA_INT, 0, entries.size());
        for (int i = 0; i < entries.size(); i++) {
            KvmCpuidEntry e = entries.get(i);
            int[] v = {e.function, e.index, e.flags, e.eax, e.ebx, e.ecx, e.edx};
            long at = ENTRIES + SIZE * i;
            for (int j = 0; j < v.length; j++) {
                cpuid2.set(ValueLayout.JAVA_INT, at + 4L * j, v[j]);
            }
        }
    }
}

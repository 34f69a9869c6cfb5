package kvm.provider.xen;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import kvm.provider.boot.PvhImage;

/**
 * Where a guest image calls Xen with VMCALL or VMMCALL rather than through the hypercall page, as
 * every current Linux does (xen_hypercall_intel and xen_hypercall_amd since the XSA-466 changes).
 * Without in-kernel Xen those instructions never reach user space, so the KVM backend puts a
 * hardware breakpoint on each and runs the hypercall at the debug exit.
 * <p>
 * A site is what Linux's two functions are: the instruction ({@code 0f 01 c1} vmcall,
 * {@code 0f 01 d9} vmmcall) as a whole function of its own, 16-byte aligned and followed at once
 * by {@code ret} (c3) or a {@code jmp rel32} (e9) to the return thunk. That tells them from KVM's
 * own paravirt calls in the same kernel, which sit inside larger functions and are used only
 * under KVM's signature, which this VMM does not show. Only executable PT_LOAD segments are
 * searched, at their link-time virtual addresses: the PVH entry bypasses the bzImage
 * decompressor, so the kernel is not relocated.
 *
 * @param sites the sites, in address order
 */
public record HypercallSites(List<Site> sites) {
    /** Debug registers DR0..DR3: at most this many breakpoints. */
    public static final int MAX = 4;
    static final int ALIGN = 16;
    static final int LENGTH = 3;
    static final int RET = 0xc3;
    static final int JMP_REL32 = 0xe9;

    /** The two instructions, by their third byte. */
    public enum Instruction {
        VMCALL(0xc1), VMMCALL(0xd9);

        final int modrm;

        Instruction(int modrm) {
            this.modrm = modrm;
        }
    }

    /** One hypercall instruction at guest-virtual {@code vaddr}. */
    public record Site(long vaddr, Instruction instruction) {
        @Override
        public String toString() {
            return "0x" + Long.toHexString(vaddr) + " (" + instruction.name().toLowerCase(Locale.ROOT) + ")";
        }
    }

    public HypercallSites {
        sites = List.copyOf(sites);
    }

    /**
     * The sites of {@code image}.
     *
     * @throws IllegalArgumentException if there are more than {@link #MAX} (too many to trap)
     */
    public static HypercallSites find(PvhImage image) {
        List<Site> found = new ArrayList<>();
        for (PvhImage.Segment s : image.segments()) {
            if (!s.executable()) {
                continue;
            }
            ByteBuffer b = image.fileBytes(s);
            // The first 16-aligned address of the segment, then every 16 bytes.
            long first = (ALIGN - (s.vaddr() & (ALIGN - 1))) & (ALIGN - 1);
            for (long at = first; at + LENGTH < b.limit(); at += ALIGN) {
                Instruction i = instruction(b, (int) at);
                if (i != null) {
                    found.add(new Site(s.vaddr() + at, i));
                }
            }
        }
        if (found.size() > MAX) {
            throw new IllegalArgumentException(found.size() + " Xen hypercall instructions found (" + found
                    + "): more than the " + MAX + " hardware breakpoints that can trap them");
        }
        found.sort((a, c) -> Long.compareUnsigned(a.vaddr(), c.vaddr()));
        return new HypercallSites(found);
    }

    private static Instruction instruction(ByteBuffer b, int at) {
        if (b.get(at) != 0x0f || b.get(at + 1) != 0x01) {
            return null;
        }
        int next = b.get(at + LENGTH) & 0xff;
        if (next != RET && next != JMP_REL32) {
            return null;
        }
        int modrm = b.get(at + 2) & 0xff;
        for (Instruction i : Instruction.values()) {
            if (i.modrm == modrm) {
                return i;
            }
        }
        return null;
    }

    public boolean isEmpty() {
        return sites.isEmpty();
    }

    /** The site at {@code rip}, or null. */
    public Site at(long rip) {
        for (Site s : sites) {
            if (s.vaddr() == rip) {
                return s;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return sites.toString();
    }
}

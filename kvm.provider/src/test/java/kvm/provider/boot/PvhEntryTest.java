package kvm.provider.boot;

import static kvm.provider.kvm.KvmTestSupport.expectHlt;
import static kvm.provider.kvm.KvmTestSupport.expectOut;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import kvm.provider.boot.HvmStartInfo.MemmapEntry;
import kvm.provider.kvm.KvmRegs;
import kvm.provider.kvm.KvmSegment;
import kvm.provider.kvm.KvmSregs;
import kvm.provider.kvm.KvmSystem;
import kvm.provider.kvm.KvmVcpu;
import kvm.provider.kvm.KvmVm;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A guest entered in the PVH state by {@link PvhEntry}: it outs ebx (the start info's address) to
 * port 0x80 and the dword there (the magic) to port 0x81, then halts. Skipped where /dev/kvm is unusable.
 */
class PvhEntryTest {
    static final long RAM_SIZE = 4L << 20;
    static final long START_INFO = 0x8000;
    static final List<MemmapEntry> MAP = List.of(new MemmapEntry(0, 0x9fc00, MemmapEntry.RAM),
            new MemmapEntry(0x100000, RAM_SIZE - 0x100000, MemmapEntry.RAM));

    @BeforeEach
    void kvmHere() {
        String why = KvmSystem.unavailableReason();
        assumeTrue(why == null, () -> "KVM not usable here, skipped: " + why);
    }

    @Test
    void rawProgramSeesTheStartInfoInEbx() {
        run(ram -> {
            MemorySegment.copy(MemorySegment.ofArray(PvhImageTest.CODE), 0, ram, PvhImageTest.ENTRY,
                    PvhImageTest.CODE.length);
            return PvhImageTest.ENTRY;
        });
    }

    @Test
    void elfImageLoadedAndEnteredAtItsPhys32Entry() {
        for (boolean is64 : new boolean[] {true, false}) {
            PvhImage image = PvhImage.parse(PvhImageTest.image(is64, is64 ? 8 : 4).build());
            run(ram -> {
                image.load(ram);
                return image.entry();
            });
        }
    }

    interface Loader {
        long load(MemorySegment ram);
    }

    private static void run(Loader loader) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(RAM_SIZE, 4096);
            long entry = loader.load(ram);
            HvmStartInfo.write(ram, START_INFO, "console=hvc0", MAP);
            try (KvmSystem kvm = KvmSystem.open(); KvmVm vm = kvm.createVm()) {
                vm.setTssAddr(0xfffbd000L);
                vm.setUserMemoryRegion(0, 0, ram);
                try (KvmVcpu vcpu = vm.createVcpu(0)) {
                    PvhEntry.enter(vcpu, entry, START_INFO);
                    KvmSregs s = vcpu.getSregs();
                    assertEquals(0x11, s.cr0(), "cr0 = PE | ET");
                    assertEquals(0, s.cr4(), "cr4");
                    assertEquals(0, s.efer(), "efer");
                    assertEquals(KvmSegment.flat32(PvhEntry.CODE_SELECTOR, PvhEntry.TYPE_CODE), s.cs());
                    KvmRegs r = vcpu.getRegs();
                    assertEquals(entry, r.rip(), "rip");
                    assertEquals(START_INFO, r.rbx(), "rbx");
                    assertEquals(2, r.rflags(), "rflags");

                    expectOut(vcpu, 0x80, (int) START_INFO);
                    expectOut(vcpu, 0x81, HvmStartInfo.MAGIC);
                    expectHlt(vcpu);
                    assertEquals(entry + 9, vcpu.getRegs().rip(), "rip after hlt");
                }
            }
        }
    }
}

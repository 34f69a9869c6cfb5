package xen.evtchn.impl.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import kvm.provider.boot.LongMode;
import kvm.provider.kvm.KvmRegs;
import kvm.provider.kvm.KvmSystem;
import kvm.provider.kvm.KvmVcpu;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.xen.KvmBackend;
import kvm.provider.xen.KvmConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.hypercall.CallbackVia;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.time.ManualTimerProvider;

/**
 * A domain saved on the software backend and restored onto a KVM VM (this machine's /dev/kvm)
 * with its memory copied: the event that was pending at the save reaches the guest code on KVM
 * through the restored callback vector, and a new event after it does too. Skipped where KVM is
 * not usable.
 */
class KvmRestoreTest {
    static final long RAM = 2L << 20;
    static final long CODE = 0x1000;
    static final long HANDLER = 0x1100;
    static final long IDT = 0x2000;
    static final long STACK_TOP = 0x8000;
    static final long TABLES = 0x10000;
    static final long SHARED_INFO_GFN = 0x40;
    static final int VECTOR = 0x40;

    @BeforeEach
    void kvmHere() {
        String why = KvmSystem.unavailableReason();
        assumeTrue(why == null, () -> "KVM not usable here, skipped: " + why);
    }

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    @Test
    void aPendingEventSavedOnSoftwareVcpusArrivesOnKvm() throws Exception {
        XenHost a = new XenHost(new ManualTimerProvider(0), (d, r) -> { });
        byte[] stream;
        int ipi;
        MemorySegment saved;
        try (SoftwareBackend soft = new SoftwareBackend(1, 1, RAM, a.dispatcher())) {
            Domain p = a.createDomain(1, GuestWidth.X86_64, soft, XenVersionInfo.DEFAULT, DomainConsole.inMemory());
            assertEquals(0, p.events().mapSharedInfo(SHARED_INFO_GFN));
            p.setParam(HvmParam.CALLBACK_IRQ, CallbackVia.vector(VECTOR));
            ipi = p.events().bindIpi(0);
            assertEquals(0, p.events().send(ipi), "pending, with upcall_pending set, when it is saved");
            stream = SaveStream.write(a.save(1));
            a.destroyDomain(1);
            saved = MemorySegment.ofArray(soft.memory().ram().toArray(ValueLayout.JAVA_BYTE));
        }

        List<String> log = new CopyOnWriteArrayList<>();
        LinkedBlockingQueue<long[]> outs = new LinkedBlockingQueue<>();
        XenHost b = new XenHost(new ManualTimerProvider(0), (d, r) -> { });
        KvmConfig config = KvmConfig.of(1, RAM, log::add).withPortWrites((vcpu, port, size, value) -> outs.add(new long[] {port, value}));
        try (KvmBackend kvm = new KvmBackend(1, config, b.dispatcher())) {
            MemorySegment ram = kvm.memory().ram();
            ram.copyFrom(saved); // the VMM's copy of guest memory
            // CODE: out 1 to 0x80; sti; hlt; jmp back to sti.
            // HANDLER: upcall_pending = 0 (vCPU 0's vcpu_info opens shared_info), then out 0x55 to 0x81 (so
            // the test, seeing the out, sends only after it); iretq.
            byte[] code = bytes(0xb8, 1, 0, 0, 0, 0xe7, 0x80, 0xfb, 0xf4, 0xeb, 0xfc);
            byte[] handler = bytes(0xc6, 0x04, 0x25, 0, 0, 0x04, 0, 0, 0xb8, 0x55, 0, 0, 0, 0xe7, 0x81, 0x48, 0xcf);
            MemorySegment.copy(MemorySegment.ofArray(code), 0, ram, CODE, code.length);
            MemorySegment.copy(MemorySegment.ofArray(handler), 0, ram, HANDLER, handler.length);
            KvmVcpu vcpu = kvm.vcpu(0);
            LongMode.enter(vcpu, ram, TABLES);
            LongMode.loadIdt(vcpu, IDT, 256);
            LongMode.interruptGate(ram, IDT, VECTOR, HANDLER);
            vcpu.setRegs(new KvmRegs(0, 0, 0, 0, 0, 0, STACK_TOP, 0, 0, 0, 0, 0, 0, 0, 0, 0, CODE, 2));

            GuestEventChannels d = b.restoreDomain(1, SaveStream.read(stream), kvm, DomainConsole.inMemory()).events();
            assertEquals(new PortStatus(0, EvtchnStat.IPI, 0, 0, 0, 0, 0), d.status(DomId.SELF, ipi));
            assertTrue(d.isPending(ipi), "the bit came with the memory");
            kvm.start();
            assertEquals(0x80, outs.poll(10, TimeUnit.SECONDS)[0], "the guest runs on KVM");
            long[] first = outs.poll(10, TimeUnit.SECONDS);
            assertNotNull(first, () -> "the upcall pending at the save never came: " + log);
            assertEquals(0x81, first[0], "the restore delivered it by the restored callback vector");

            // The guest took it (its handler cleared upcall_pending); clear pending_sel and the port's bit as
            // its scan would, and send again.
            MemorySegment shared = kvm.memory().page(SHARED_INFO_GFN);
            shared.set(ValueLayout.JAVA_LONG, GuestWidth.X86_64.vcpuInfo().pendingSel(), 0L);
            long pendingWord = GuestWidth.X86_64.sharedInfo().evtchnPending() + 8L * (ipi / 64);
            shared.set(ValueLayout.JAVA_LONG, pendingWord, shared.get(ValueLayout.JAVA_LONG, pendingWord) & ~(1L << ipi % 64));
            assertEquals(0, d.send(ipi));
            long[] second = outs.poll(10, TimeUnit.SECONDS);
            assertNotNull(second, () -> "a new event after the restore never came: " + log);
            assertEquals(0x81, second[0]);
            kvm.requestStop();
            assertTrue(kvm.awaitStop(java.time.Duration.ofSeconds(10)));
        }
    }
}

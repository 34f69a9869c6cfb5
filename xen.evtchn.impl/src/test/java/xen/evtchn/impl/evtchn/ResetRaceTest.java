package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToLongFunction;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.evtchn.EventDomain;
import xen.evtchn.impl.host.XenHost;
import xen.evtchn.impl.time.ManualTimerProvider;

/**
 * Issue 16: vCPU 1 of dom2 binds while its vCPU 0 resets the domain, both through the hypercall
 * ABI on threads of their own. The interleaving is made certain, not likely: dom2's last port is a
 * channel to dom1, and the test holds dom1's lock (as dom1 would while closing its end), so the
 * reset's sweep stops at that port, having closed every other and holding nothing of dom2's.
 * vCPU 1's bind then lands behind the sweep. Under FIFO, the ports up to a little past 2-level's
 * limit have an event queued, so once closed they stay busy and the bind takes a port above that
 * limit (port 4201 for a 64-bit guest, as in the defect).
 */
class ResetRaceTest {
    private static final int PEER = 1;
    private static final int DOMID = 2;
    private static final long RAM = 1 << 20;
    private static final long SHARED_INFO_GFN = 0x10;
    private static final long CONTROL_GFN = 0x20;
    private static final long ARRAY_GFN = 0x30;
    private static final int CLOSED = 0;
    private static final int UNBOUND = 1;
    private static final int EAGAIN = -11;
    private static final int ENOSYS = -38;
    private static final int SOFT_RESET = 5;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * One host with dom1 and dom2 (two vCPUs, of {@code width}): dom2's IPI ports 1..{@code ipis}
     * (the console and xenstore ports closed first), then its port {@link #channel} to dom1.
     */
    private static final class Host implements AutoCloseable {
        final XenHost host = new XenHost(new ManualTimerProvider(0), (domid, reason) -> { });
        final SoftwareBackend peerBackend = new SoftwareBackend(PEER, 1, RAM, host.dispatcher());
        final SoftwareBackend backend = new SoftwareBackend(DOMID, 2, RAM, host.dispatcher());
        final MemorySegment ram = backend.memory().ram();
        final VcpuCalls peer = new VcpuCalls(host.dispatcher(), PEER, 0, true, peerBackend.memory().ram(), 0x1000);
        final VcpuCalls vcpu0;
        final VcpuCalls vcpu1;
        final boolean fifo;
        /** 2-level's bits per word and port limit for the width. */
        final int bits;
        final int twoLevelLimit;
        /** Under FIFO, ports 1..linked are sent to and left queued: closed, they may not be taken again. */
        final int linked;
        final int channel;
        final int peerPort;

        Host(GuestWidth width, boolean fifo) {
            this.fifo = fifo;
            boolean longMode = width == GuestWidth.X86_64;
            this.bits = longMode ? 64 : 32;
            this.twoLevelLimit = bits * bits;
            this.linked = twoLevelLimit + 104;
            vcpu0 = new VcpuCalls(host.dispatcher(), DOMID, 0, longMode, ram, 0x1000);
            vcpu1 = new VcpuCalls(host.dispatcher(), DOMID, 1, longMode, ram, 0x2000);
            host.createDomain(PEER, GuestWidth.X86_64, peerBackend, XenVersionInfo.DEFAULT, DomainConsole.inMemory());
            host.createDomain(DOMID, width, backend, XenVersionInfo.DEFAULT, DomainConsole.inMemory());
            assertEquals(0, vcpu0.close(1), "the console port the toolstack offered");
            assertEquals(0, vcpu0.close(2), "the xenstore port the toolstack offered");
            assertEquals(0, vcpu0.mapSharedInfo(SHARED_INFO_GFN));
            int ipis = fifo ? linked + 200 : 200;
            if (fifo) {
                assertEquals(0, vcpu0.initControl(CONTROL_GFN, 0, 0));
                assertEquals(0, vcpu1.initControl(CONTROL_GFN, 128, 1));
                for (int page = 0; page * 1024 <= ipis + 1; page++) {
                    assertEquals(0, vcpu0.expandArray(ARRAY_GFN + page));
                }
            }
            for (int port = 1; port <= ipis; port++) {
                assertEquals(port, vcpu1.bindIpi(1), "bind_ipi");
            }
            for (int port = 1; fifo && port <= linked; port++) {
                assertEquals(0, vcpu1.send(port));
            }
            peerPort = peer.allocUnbound(DOMID);
            channel = vcpu0.bindInterdomain(PEER, peerPort);
            assertEquals(ipis + 1, channel, "the channel to dom1 is the last port");
        }

        /** The port a bind takes once the sweep has passed it. */
        int firstFree() {
            return fifo ? linked + 1 : 1;
        }

        /** Holds dom1's lock, which the sweep needs to close the channel, while {@code during} runs. */
        void withPeerLocked(Runnable during) {
            EventDomain d = host.eventChannels().guest(PEER);
            long stamp = d.lock.writeLock();
            try {
                during.run();
            } finally {
                d.lock.unlockWrite(stamp);
            }
        }

        /** Waits until the sweep has closed every port but the channel. */
        void awaitSweepAtChannel(Thread resetting) {
            while (vcpu1.status(channel - 1) != CLOSED) {
                assertTrue(resetting.isAlive(), "the reset ended before the sweep reached the channel");
                Thread.onSpinWait();
            }
        }

        /** evtchn_pending at 0x800 in shared_info, as u64 or u32 words (read here 32 bits at a time). */
        boolean twoLevelPending(int port) {
            return (ram.get(U32, SHARED_INFO_GFN * 4096 + 0x800 + port / 32 * 4) >>> (port % 32) & 1) != 0;
        }

        boolean fifoPending(int port) {
            return (ram.get(U32, ARRAY_GFN * 4096 + 4L * port) & 1 << 31) != 0;
        }

        @Override
        public void close() {
            host.destroyDomain(DOMID);
            host.destroyDomain(PEER);
            backend.close();
            peerBackend.close();
        }
    }

    /** Runs {@code call} on a thread of its own; {@link Answer#get} gives its result or what it threw. */
    private static final class Answer {
        final AtomicReference<Object> value = new AtomicReference<>();
        final Thread thread;

        Answer(String name, VcpuCalls vcpu, ToLongFunction<VcpuCalls> call) {
            thread = new Thread(() -> {
                try {
                    value.set(call.applyAsLong(vcpu));
                } catch (Throwable t) {
                    value.set(t);
                }
            }, name);
            thread.start();
        }

        Object get() throws InterruptedException {
            thread.join();
            return value.get();
        }
    }

    @ParameterizedTest(name = "{0} fifo={1}")
    @CsvSource({"X86_64, true", "X86_64, false", "X86_32, true", "X86_32, false"})
    void aBindBehindTheSweepMakesResetAnswerEagainAndLeavesTheAbiWhole(GuestWidth width, boolean fifo)
            throws InterruptedException {
        try (Host h = new Host(width, fifo)) {
            int[] bound = new int[1];
            AtomicReference<Answer> reset = new AtomicReference<>();
            h.withPeerLocked(() -> {
                reset.set(new Answer("vcpu0-reset", h.vcpu0, VcpuCalls::reset));
                h.awaitSweepAtChannel(reset.get().thread);
                bound[0] = h.vcpu1.bindIpi(1);
            });
            assertEquals(h.firstFree(), bound[0], "the bind landed behind the sweep");
            assertTrue(!fifo || bound[0] >= h.twoLevelLimit, "under FIFO, above 2-level's limit");
            assertEquals((long) EAGAIN, reset.get().get(), "a port in use after the sweep: Xen answers -EAGAIN");
            assertEquals(CLOSED, h.vcpu1.status(h.channel), "the sweep went on to the last port");
            assertEquals(UNBOUND, h.peer.status(h.peerPort), "and dom1's end went back to unbound");

            int port = bound[0];
            assertEquals(fifo ? 0 : ENOSYS, h.vcpu1.setPriority(port, 3), "the ABI is the one before the reset");
            assertEquals(0, h.vcpu1.send(port));
            assertTrue(fifo ? h.fifoPending(port) : h.twoLevelPending(port), "the port left bound is delivered");

            assertEquals(0L, h.vcpu0.reset(), "with vCPU 1 quiet, a reset succeeds");
            assertEquals(CLOSED, h.vcpu1.status(port));
            assertEquals(ENOSYS, h.vcpu1.setPriority(port, 3), "on 2-level now");
            assertEquals(1, h.vcpu1.bindIpi(1), "every port was closed");
        }
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void aSoftResetHoldsTheOtherVcpusBindsUntilItEndsOnTwoLevel(GuestWidth width) throws InterruptedException {
        try (Host h = new Host(width, true)) {
            AtomicReference<Answer> reset = new AtomicReference<>();
            AtomicReference<Answer> bind = new AtomicReference<>();
            h.withPeerLocked(() -> {
                reset.set(new Answer("vcpu0-soft-reset", h.vcpu0, v -> v.shutdown(SOFT_RESET)));
                h.awaitSweepAtChannel(reset.get().thread);
                bind.set(new Answer("vcpu1-bind", h.vcpu1, v -> v.bindIpi(1)));
                // The bind either returns or waits; it must not return while the sweep is held.
                Thread binder = bind.get().thread;
                while (binder.isAlive() && binder.getState() != Thread.State.WAITING) {
                    Thread.onSpinWait();
                }
            });
            assertEquals(0L, reset.get().get(), "SCHEDOP_shutdown(soft_reset)");
            assertEquals(1L, bind.get().get(), "the bind came after the soft reset, on an empty 2-level table");
            for (int port : new int[] {2, h.firstFree(), h.channel}) {
                assertEquals(CLOSED, h.vcpu1.status(port), "port " + port);
            }
            assertEquals(ENOSYS, h.vcpu1.setPriority(1, 3), "on 2-level");
            assertEquals(0, h.vcpu1.send(1));
            assertEquals(0, h.vcpu1.mapSharedInfo(SHARED_INFO_GFN), "soft reset unmapped shared_info");
            assertTrue(h.twoLevelPending(1), "the new port delivers on 2-level");
        }
    }
}

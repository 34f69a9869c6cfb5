package reference.guest;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.Consumer;
import kvm.provider.software.SoftwareVcpu;
import xen.evtchn.api.abi.ConsoleIo;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnOp;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.HvmOp;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.abi.VcpuOp;
import xen.evtchn.api.abi.XenMapSpace;
import xen.evtchn.api.abi.XenMem;
import xen.evtchn.api.abi.XenVer;
import xen.evtchn.api.abi.evtchnop.BindIpi;
import xen.evtchn.api.abi.evtchnop.BindVirq;
import xen.evtchn.api.abi.evtchnop.ExpandArray;
import xen.evtchn.api.abi.evtchnop.InitControl;
import xen.evtchn.api.abi.evtchnop.Send;
import xen.evtchn.api.abi.evtchnop.SetPriority;
import xen.evtchn.api.abi.evtchnop.Unmask;
import xen.evtchn.api.abi.hypercall.AddToPhysmap;
import xen.evtchn.api.abi.hypercall.FeatureInfo;
import xen.evtchn.api.abi.hypercall.HvmParamArg;
import xen.evtchn.api.abi.hypercall.RegisterVcpuInfo;
import xen.evtchn.api.abi.hypercall.SchedShutdown;
import xen.evtchn.api.abi.hypercall.SingleshotTimer;

/**
 * The guest's HYPERVISOR_* calls for one vCPU and one context (normal or upcall handler): each
 * writes its argument struct into the context's own area of the vCPU's scratch page with the api
 * codecs, passes the struct's guest address, and reads out fields back from there. A negative
 * result is counted, recorded and turned into a {@link GuestPanic}.
 */
final class Hypervisor {
    private static final GuestWidth WIDTH = GuestWidth.X86_64;

    private final SoftwareVcpu cpu;
    private final MemorySegment ram;
    private final long args;
    private final long text;
    private final VcpuCounters counters;
    private final Consumer<HypercallError> errors;

    /**
     * @param args   guest address of this context's argument area ({@link GuestMemoryMap#ARGS_SIZE} bytes)
     * @param text   guest address of the vCPU's console text area ({@link GuestMemoryMap#TEXT_SIZE} bytes)
     * @param errors told of every failed hypercall before the panic
     */
    Hypervisor(SoftwareVcpu cpu, MemorySegment ram, long args, long text, VcpuCounters counters,
            Consumer<HypercallError> errors) {
        this.cpu = cpu;
        this.ram = ram;
        this.args = args;
        this.text = text;
        this.counters = counters;
        this.errors = errors;
    }

    // ---- xen_version, memory_op, hvm_op, console_io, sched_op ----

    /** XENVER_version: (major &lt;&lt; 16) | minor. */
    int xenVersion() {
        long rc = cpu.hypercall(Hypercall.XEN_VERSION, XenVer.VERSION, 0);
        check(rc, "xen_version(XENVER_version)", "arg", 0);
        return (int) rc;
    }

    /** XENVER_get_features: feature submap {@code index} (Linux's xen_setup_features). */
    int features(int index) {
        MemorySegment s = struct(FeatureInfo.SIZE);
        new FeatureInfo(index, 0).write(s);
        check(cpu.hypercall(Hypercall.XEN_VERSION, XenVer.GET_FEATURES, args),
                "xen_version(XENVER_get_features)", "submap_idx", index);
        return FeatureInfo.read(s).submap();
    }

    /** XENMEM_add_to_physmap(XENMAPSPACE_shared_info, idx 0, gpfn). */
    void mapSharedInfo(long gpfn) {
        MemorySegment s = struct(AddToPhysmap.size(WIDTH));
        new AddToPhysmap(DomId.SELF, 0, XenMapSpace.SHARED_INFO, 0, gpfn).write(s, WIDTH);
        check(cpu.hypercall(Hypercall.MEMORY_OP, XenMem.ADD_TO_PHYSMAP, args),
                "memory_op(XENMEM_add_to_physmap, shared_info)", "gpfn", gpfn);
    }

    /** HVMOP_set_param(index, value) on the guest itself. */
    void setHvmParam(int index, long value) {
        MemorySegment s = struct(HvmParamArg.SIZE);
        new HvmParamArg(DomId.SELF, index, value).write(s);
        long rc = cpu.hypercall(Hypercall.HVM_OP, HvmOp.SET_PARAM, args);
        if (rc < 0) {
            fail("hvm_op(HVMOP_set_param) index " + index + " value 0x" + Long.toHexString(value), rc);
        }
    }

    /** HVMOP_get_param(index) on the guest itself. */
    long getHvmParam(int index) {
        MemorySegment s = struct(HvmParamArg.SIZE);
        new HvmParamArg(DomId.SELF, index, 0).write(s);
        long rc = cpu.hypercall(Hypercall.HVM_OP, HvmOp.GET_PARAM, args);
        if (rc < 0) {
            fail("hvm_op(HVMOP_get_param) index " + index, rc);
        }
        return HvmParamArg.read(s).value();
    }

    /** CONSOLEIO_write of {@code message} (ASCII; written in pieces if longer than the text area). */
    void consoleWrite(String message) {
        byte[] bytes = message.getBytes(StandardCharsets.US_ASCII);
        for (int off = 0; off < bytes.length; off += GuestMemoryMap.TEXT_SIZE) {
            int n = Math.min(GuestMemoryMap.TEXT_SIZE, bytes.length - off);
            MemorySegment.copy(bytes, off, ram, ValueLayout.JAVA_BYTE, text, n);
            check(cpu.hypercall(Hypercall.CONSOLE_IO, ConsoleIo.WRITE, n, text),
                    "console_io(CONSOLEIO_write)", "count", n);
        }
    }

    /** SCHEDOP_shutdown(reason). */
    void shutdown(int reason) {
        MemorySegment s = struct(SchedShutdown.SIZE);
        new SchedShutdown(reason).write(s);
        check(cpu.hypercall(Hypercall.SCHED_OP, SchedOp.SHUTDOWN, args), "sched_op(SCHEDOP_shutdown)", "reason", reason);
    }

    // ---- vcpu_op ----

    /** VCPUOP_register_vcpu_info for this vCPU: its vcpu_info at {@code offset} in frame {@code gfn}. */
    void registerVcpuInfo(long gfn, int offset) {
        MemorySegment s = struct(RegisterVcpuInfo.SIZE);
        new RegisterVcpuInfo(gfn, offset).write(s);
        long rc = cpu.hypercall(Hypercall.VCPU_OP, VcpuOp.REGISTER_VCPU_INFO, cpu.id(), args);
        if (rc < 0) {
            fail("vcpu_op(VCPUOP_register_vcpu_info) gfn " + gfn + " offset " + offset, rc);
        }
    }

    /** VCPUOP_stop_periodic_timer for this vCPU (Linux does it before using the singleshot timer). */
    void stopPeriodicTimer() {
        check(cpu.hypercall(Hypercall.VCPU_OP, VcpuOp.STOP_PERIODIC_TIMER, cpu.id(), 0),
                "vcpu_op(VCPUOP_stop_periodic_timer)", "vcpu", cpu.id());
    }

    /** VCPUOP_set_singleshot_timer for this vCPU at {@code deadline} (Xen system time), no flags. */
    void setSingleshotTimer(long deadline) {
        MemorySegment s = struct(SingleshotTimer.SIZE);
        new SingleshotTimer(deadline, 0).write(s);
        check(cpu.hypercall(Hypercall.VCPU_OP, VcpuOp.SET_SINGLESHOT_TIMER, cpu.id(), args),
                "vcpu_op(VCPUOP_set_singleshot_timer)", "deadline", deadline);
    }

    /** VCPUOP_stop_singleshot_timer for this vCPU. */
    void stopSingleshotTimer() {
        check(cpu.hypercall(Hypercall.VCPU_OP, VcpuOp.STOP_SINGLESHOT_TIMER, cpu.id(), 0),
                "vcpu_op(VCPUOP_stop_singleshot_timer)", "vcpu", cpu.id());
    }

    // ---- event_channel_op ----

    /** EVTCHNOP_bind_virq({@code virq}) on this vCPU; returns the port. */
    int bindVirq(int virq) {
        MemorySegment s = struct(EvtchnOp.BIND_VIRQ.argSize());
        new BindVirq(virq, cpu.id(), 0).write(s);
        evtchnOp(EvtchnOp.BIND_VIRQ, "virq", virq);
        return BindVirq.read(s).port();
    }

    /** EVTCHNOP_bind_ipi on this vCPU; returns the port. */
    int bindIpi() {
        MemorySegment s = struct(EvtchnOp.BIND_IPI.argSize());
        new BindIpi(cpu.id(), 0).write(s);
        evtchnOp(EvtchnOp.BIND_IPI, "vcpu", cpu.id());
        return BindIpi.read(s).port();
    }

    /** EVTCHNOP_unmask({@code port}). */
    void unmask(int port) {
        new Unmask(port).write(struct(EvtchnOp.UNMASK.argSize()));
        evtchnOp(EvtchnOp.UNMASK, "port", port);
    }

    /** EVTCHNOP_send({@code port}). */
    void send(int port) {
        new Send(port).write(struct(EvtchnOp.SEND.argSize()));
        evtchnOp(EvtchnOp.SEND, "port", port);
    }

    /** EVTCHNOP_init_control: this vCPU's FIFO control block at {@code offset} in frame {@code gfn}. */
    void initControl(long gfn, int offset) {
        new InitControl(gfn, offset, cpu.id(), 0).write(struct(EvtchnOp.INIT_CONTROL.argSize()));
        evtchnOp(EvtchnOp.INIT_CONTROL, "control_gfn", gfn);
    }

    /** EVTCHNOP_expand_array: one more event array page, frame {@code gfn}. */
    void expandArray(long gfn) {
        new ExpandArray(gfn).write(struct(EvtchnOp.EXPAND_ARRAY.argSize()));
        evtchnOp(EvtchnOp.EXPAND_ARRAY, "array_gfn", gfn);
    }

    /** EVTCHNOP_set_priority({@code port}, {@code priority}). */
    void setPriority(int port, int priority) {
        new SetPriority(port, priority).write(struct(EvtchnOp.SET_PRIORITY.argSize()));
        evtchnOp(EvtchnOp.SET_PRIORITY, "port", port);
    }

    private void evtchnOp(EvtchnOp op, String argName, long arg) {
        long rc = cpu.hypercall(Hypercall.EVENT_CHANNEL_OP, op.number(), args);
        if (rc < 0) {
            fail("event_channel_op(EVTCHNOP_" + op.name().toLowerCase(Locale.ROOT) + ") " + argName + " " + arg, rc);
        }
    }

    /** The argument area, zeroed for a struct of {@code size} bytes. */
    private MemorySegment struct(long size) {
        MemorySegment s = ram.asSlice(args, size);
        s.fill((byte) 0);
        return s;
    }

    /** Builds the message only on failure: the tick path makes hypercalls at HZ. */
    private void check(long rc, String op, String argName, long arg) {
        if (rc < 0) {
            fail(op + " " + argName + " " + arg, rc);
        }
    }

    private void fail(String op, long rc) {
        HypercallError e = new HypercallError(cpu.id(), op, (int) -rc);
        counters.hypercallErrors.incrementAndGet();
        errors.accept(e);
        throw new GuestPanic(e);
    }
}

package kvm.provider.xen;

import kvm.provider.kvm.KvmExit;
import kvm.provider.kvm.KvmRegs;
import kvm.provider.kvm.KvmVcpu;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.HypercallHandler;

/**
 * Handles the hypercall exits of a vCPU, by either path a guest may take. {@link #handleBreakpoint}:
 * a KVM_EXIT_DEBUG at a VMCALL/VMMCALL of {@link HypercallSites} (every current Linux).
 * {@link #handle}: a KVM_EXIT_IO that {@link HypercallPage#isHypercall} on
 * {@link HypercallPage#PORT} becomes a {@link KvmHypercall} built from the registers KVM left in
 * kvm_run (sync regs), goes to the handler, and the handler's result goes back to rax through
 * kvm_dirty_regs: a hypercall round trip costs KVM_RUN and nothing else.
 *
 * <p>Nothing has to be done about rip: KVM completes the OUT (advances rip past it) itself. For
 * {@link HypercallPage#PORT} 0x7e it does so before the exit (KVM_X86_QUIRK_OUT_7E_INC_RIP, on by
 * default), so the synced rip already points at the stub's {@code ret} (tested). For other ports
 * upstream KVM steps over the {@code out} on re-entry, while the software KVM of the test machine
 * has already stepped over it at the exit; either way the guest resumes after it exactly once
 * (tested). Writing s.regs back unchanged but for rax keeps this working in both cases (KVM
 * checks that rip is still the one of the {@code out} before stepping).
 * Without {@link KvmVcpu#enableSyncRegs()} in effect it falls back to KVM_GET_REGS /
 * KVM_GET_SREGS / KVM_SET_REGS (three ioctls more per call).
 */
public final class KvmHypercallExits {
    private KvmHypercallExits() {
    }

    /**
     * If the vCPU's debug exit {@code debug} is a hardware breakpoint on one of {@code sites} (a
     * VMCALL or VMMCALL the guest is about to execute, rax = the number, arguments as for the
     * hypercall page), runs the hypercall through {@code handler}, sets rax to its result and
     * moves rip past the instruction, as the instruction itself would under Xen; returns true.
     * Returns false, touching nothing, for a debug exit elsewhere.
     */
    public static boolean handleBreakpoint(KvmVcpu vcpu, KvmExit.Debug debug, GuestMemory memory, int domid,
            HypercallHandler handler, HypercallSites sites) {
        if (sites.at(debug.pc()) == null) {
            return false;
        }
        call(vcpu, memory, domid, handler, HypercallSites.LENGTH);
        return true;
    }

    /**
     * If the vCPU's I/O exit {@code io} is a hypercall, runs it through {@code handler} for domain
     * {@code domid} and sets rax to its result for the next {@link KvmVcpu#run()}; returns true.
     * Returns false, touching nothing, for any other I/O. {@code memory} is the guest's.
     */
    public static boolean handle(KvmVcpu vcpu, KvmExit.Io io, GuestMemory memory, int domid, HypercallHandler handler) {
        if (!HypercallPage.isHypercall(io)) {
            return false;
        }
        call(vcpu, memory, domid, handler, 0);
        return true;
    }

    /**
     * Runs the hypercall in the vCPU's registers through {@code handler}, then sets rax to its
     * result and moves rip on by {@code advance} (0 where KVM completes the instruction itself).
     */
    private static void call(KvmVcpu vcpu, GuestMemory memory, int domid, HypercallHandler handler, int advance) {
        if (vcpu.syncRegsEnabled()) {
            KvmHypercall call = KvmHypercall.of(memory, domid, vcpu.id(), vcpu.syncedRegsSegment(),
                    vcpu.syncedSregsSegment());
            long result = handler.hypercall(call);
            call.finish();
            vcpu.completeSynced(result, advance);
        } else {
            KvmRegs regs = vcpu.getRegs();
            KvmHypercall call = KvmHypercall.of(memory, domid, vcpu.id(), regs, vcpu.getSregs());
            long result = handler.hypercall(call);
            call.finish();
            vcpu.setRegs(regs.withRax(result).withRip(regs.rip() + advance));
        }
    }
}

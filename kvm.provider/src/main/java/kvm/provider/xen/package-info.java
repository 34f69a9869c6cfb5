/**
 * Xen on KVM: what makes a VM of the {@link kvm.provider.kvm} layer look like Xen to its guest.
 * {@link kvm.provider.xen.KvmBackend} builds the domain (RAM, Xen's CPUID leaves from
 * {@link kvm.provider.xen.XenCpuid}, the hypercall page's MSR trap from
 * {@link kvm.provider.xen.HypercallPage}, breakpoints on the image's
 * {@link kvm.provider.xen.HypercallSites}); a {@code VcpuRunner} per vCPU runs the exit loop, turns
 * hypercall exits into {@link kvm.provider.xen.KvmHypercall}s ({@link kvm.provider.xen.KvmHypercallExits})
 * and injects upcalls, woken by a {@code VcpuKick}; {@link kvm.provider.xen.KvmGuest} boots a PVH image
 * as a domain of a host. Bundle-private.
 */
package kvm.provider.xen;

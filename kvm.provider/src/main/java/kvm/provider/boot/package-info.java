/**
 * What a guest boots from, in pure Java: the PVH image ({@link kvm.provider.boot.PvhImage}, out of a
 * bzImage by {@link kvm.provider.boot.KernelImage}), the start info it finds
 * ({@link kvm.provider.boot.HvmStartInfo}), the ACPI tables, and the vCPU states it starts in
 * ({@link kvm.provider.boot.PvhEntry}: PVH's 32-bit flat entry; {@link kvm.provider.boot.LongMode}: 64-bit
 * mode set up by the host). Bundle-private.
 */
package kvm.provider.boot;

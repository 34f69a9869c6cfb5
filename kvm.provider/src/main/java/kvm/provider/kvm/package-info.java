/**
 * The thin typed layer over /dev/kvm through java.lang.foreign, one type per fd (rust-vmm's
 * kvm-ioctls): {@link kvm.provider.kvm.KvmSystem} (/dev/kvm) creates a {@link kvm.provider.kvm.KvmVm},
 * which creates {@link kvm.provider.kvm.KvmVcpu}s, whose {@code run()} returns a typed
 * {@link kvm.provider.kvm.KvmExit}. Every ioctl number is in {@code KvmIoctl}, every capability in
 * {@link kvm.provider.kvm.KvmCap}, kvm_run's layout in {@code KvmRun}; the structs are records with
 * their layouts. Nothing here knows Xen. Bundle-private.
 */
package kvm.provider.kvm;

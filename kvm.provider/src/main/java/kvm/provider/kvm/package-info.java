/** The real KVM backend: a thin typed layer over the /dev/kvm ioctls through java.lang.foreign, one type per fd. */
package kvm.provider.kvm;

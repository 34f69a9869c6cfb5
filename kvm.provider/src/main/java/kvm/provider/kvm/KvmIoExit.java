package kvm.provider.kvm;

/**
 * kvm_run.io of a KVM_EXIT_IO: direction ({@link KvmExit#IO_IN}/{@link KvmExit#IO_OUT}), access
 * size in bytes, port, repeat count, and where the data lies within kvm_run.
 */
public record KvmIoExit(int direction, int size, int port, int count, long dataOffset) {
}

/**
 * The host's C library through java.lang.foreign, one binding for the whole bundle: the linker,
 * errno capture and its names ({@link kvm.provider.os.HostErrno}), failures as
 * {@link kvm.provider.os.NativeCallException}, file and memory calls ({@link kvm.provider.os.Libc})
 * and the signals that kick vCPUs ({@link kvm.provider.os.Signals}); guest memory freed once no
 * backend's file I/O holds it ({@link kvm.provider.os.SharedArenas}). Bundle-private.
 */
package kvm.provider.os;

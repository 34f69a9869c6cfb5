package xen.evtchn.api.abi;

/** CONSOLEIO_* commands of the console_io hypercall (xen.h): console_io(cmd, count, buffer). */
public final class ConsoleIo {
    /** Writes {@code count} bytes from {@code buffer} to the hypervisor console; returns 0. */
    public static final int WRITE = 0;
    /** Reads at most {@code count} bytes of console input into {@code buffer}; returns the number read. */
    public static final int READ = 1;

    private ConsoleIo() {
    }
}

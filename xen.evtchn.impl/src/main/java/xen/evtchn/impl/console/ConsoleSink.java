package xen.evtchn.impl.console;

/**
 * Where a domain's CONSOLEIO_write output goes; the host supplies one per domain. It is called
 * with the domain's console lock held, in chunks of at most {@link DomainConsole#CHUNK} bytes,
 * only with bytes the rate limit let through. It must not block for long (a vCPU waits on it)
 * and must not keep the array, which is reused.
 */
@FunctionalInterface
public interface ConsoleSink {
    void write(byte[] bytes, int offset, int length);
}

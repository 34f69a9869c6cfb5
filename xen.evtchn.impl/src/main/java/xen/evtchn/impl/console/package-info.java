/**
 * The hypervisor console (CONSOLEIO_write) of each domain: rate limited output
 * ({@link xen.evtchn.impl.console.DomainConsole}, {@link xen.evtchn.impl.console.TokenBucket}), split
 * into lines for the host ({@link xen.evtchn.impl.console.ConsoleLines}), and the host's
 * {@link xen.evtchn.api.host.GuestConsole} of a domain ({@link xen.evtchn.impl.console.HostConsole}).
 */
package xen.evtchn.impl.console;

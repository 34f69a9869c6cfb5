/**
 * The reference guest: a small guest kernel in Java for software vCPUs that uses the hypervisor
 * only through hypercalls whose arguments are structs in its own guest memory, as Linux's Xen
 * driver does. It maps shared_info, sets the upcall callback, registers a vcpu_info per vCPU,
 * binds VIRQ_TIMER and an IPI per vCPU, ticks on singleshot timers read against pvclock, sends
 * IPIs between vCPUs, handles upcalls with Linux's round-robin 2-level scan, and powers off.
 * Tests, benchmarks and the launcher run it: {@link reference.guest.ReferenceGuest#start}.
 */
@Export
@Version("1.0.0")
package reference.guest;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

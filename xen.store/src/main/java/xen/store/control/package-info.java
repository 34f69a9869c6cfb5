/**
 * The toolstack's requests to a guest through XenStore (libxl's "PV control"): a shutdown or
 * reboot written to the guest's control/shutdown and its acknowledgement awaited, through the
 * host's {@code XenStore} service only. Nothing is exported.
 */
package xen.store.control;

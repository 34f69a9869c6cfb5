/**
 * The DS component that boots a configured PVH kernel as a domain on KVM:
 * {@link kvm.provider.launch.PvhGuestLauncher}, one per factory configuration
 * {@code xen.domain.kernel}, read by {@code PvhGuestSettings}. Bundle-private.
 */
package kvm.provider.launch;

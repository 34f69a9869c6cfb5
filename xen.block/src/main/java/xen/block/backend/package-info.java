/**
 * The vbd backend: the whiteboard component the bus probes ({@code BlockBackend}), one device's
 * connection ({@code Vbd}), the thread that serves its ring ({@code RingServer}), one request's
 * checks and I/O ({@code RequestIo}) and the configuration ({@code BlockSettings}).
 */
package xen.block.backend;

/**
 * A stock Debian guest prepared for the VMM: Debian's cloud kernel as an ELF vmlinux and a busybox
 * initramfs, fetched with the host's apt and cached (StockLinux); the newc cpio writer and the
 * initramfs it builds.
 */
package linux.guest;

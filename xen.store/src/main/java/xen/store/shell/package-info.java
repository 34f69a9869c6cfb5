/** The Gogo commands on XenStore (scope xen), through the host's XenStore service only. Nothing is exported. */
package xen.store.shell;

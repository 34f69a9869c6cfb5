/** The {@code xen:devices} command. Nothing is exported. */
package xen.bus.shell;

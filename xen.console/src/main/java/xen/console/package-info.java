/** The PV console backend: nothing is exported, it meets the host through api services only. */
package xen.console;

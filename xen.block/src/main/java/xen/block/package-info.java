/** The PV block backend: nothing is exported, it meets the host through api services only. */
package xen.block;

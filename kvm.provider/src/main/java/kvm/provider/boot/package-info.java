/** What a PVH guest boots from besides its RAM: the kernel image and the ACPI tables, in pure Java. Bundle-private. */
package kvm.provider.boot;

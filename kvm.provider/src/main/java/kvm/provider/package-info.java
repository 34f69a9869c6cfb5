/** The providers' shared host-side helpers (private to the bundle). */
package kvm.provider;

/** The software vCPU backend: off-heap guest RAM and Java guest code on emulated vCPUs, for hosts without /dev/kvm. */
package kvm.provider.software;

/**
 * The software vCPU backend: off-heap guest RAM and Java guest code on emulated vCPUs, for hosts
 * without /dev/kvm. Exported so that guest kernels written in Java (the reference guest) run on it.
 */
@Export
@Version("1.0.0")
package kvm.provider.software;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

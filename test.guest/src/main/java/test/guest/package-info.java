/**
 * The test guest of our own: an unmodified-PVH x86-64 ELF kernel assembled from
 * {@code src/main/guest/xentest.S} by the build, which checks the Xen guest ABI from inside,
 * XTF-style, and reports on its console ({@link test.guest.TestGuestImage}).
 */
@Export
@Version("1.0.0")
package test.guest;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

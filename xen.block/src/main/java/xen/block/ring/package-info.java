/** The back end of a blkif ring (ring.h's BACK_RING macros) on the granted ring pages. */
package xen.block.ring;

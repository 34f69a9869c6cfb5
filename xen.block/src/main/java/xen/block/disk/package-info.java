/** The raw image file a vbd is served from: opened, sized, read, written and flushed. */
package xen.block.disk;

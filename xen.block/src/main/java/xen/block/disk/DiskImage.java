package xen.block.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import xen.evtchn.api.abi.blkif.Blkif;

/**
 * A raw disk image, served as {@link #sectors()} 512-byte sectors (a partial last sector is not
 * served), read-only or read-write. A request's data is read or written with one scattering read
 * or gathering write straight between the file and the guest's mapped pages (Linux's blkback hands
 * the loop device one bio of the request's pages); Java has those only at the channel's position,
 * so each sets the position (unless it is there already) and moves the data under the image's
 * lock; a request of one segment uses a positional read or write instead. {@link #flush()} is
 * {@link FileChannel#force}, the file's fsync.
 */
public final class DiskImage implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final boolean readOnly;
    private final long sectors;
    private final int physicalSectorSize;
    /** Where the channel's position is, if known (-1 if not): only the scattering and gathering I/Os move it. */
    private long position = -1;

    private DiskImage(Path path, FileChannel channel, boolean readOnly, long sectors, int physicalSectorSize) {
        this.path = path;
        this.channel = channel;
        this.readOnly = readOnly;
        this.sectors = sectors;
        this.physicalSectorSize = physicalSectorSize;
    }

    /**
     * Opens {@code path}, read-only or for reading and writing.
     *
     * @throws DiskException naming the file and what is wrong: not absolute, missing, not a regular
     *                       file, not readable (or writable), smaller than a sector
     */
    public static DiskImage open(Path path, boolean readOnly) throws DiskException {
        if (!path.isAbsolute()) {
            throw new DiskException(path + ": not an absolute path");
        }
        if (!Files.exists(path)) {
            throw new DiskException(path + ": no such file");
        }
        if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(path)) {
            throw new DiskException(path + ": not a regular file");
        }
        FileChannel channel;
        try {
            channel = readOnly ? FileChannel.open(path, StandardOpenOption.READ)
                    : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (AccessDeniedException e) {
            throw new DiskException(path + ": not " + (readOnly ? "readable" : "readable and writable (mode r serves it read-only)"));
        } catch (NoSuchFileException e) {
            throw new DiskException(path + ": no such file");
        } catch (IOException | SecurityException e) {
            throw new DiskException(path + ": cannot open it: " + e.getMessage());
        }
        try {
            long size = channel.size();
            if (size < Blkif.SECTOR_SIZE) {
                throw new DiskException(path + ": " + size + " bytes, less than one " + Blkif.SECTOR_SIZE + "-byte sector");
            }
            long sectors = size / Blkif.SECTOR_SIZE;
            return new DiskImage(path, channel, readOnly, sectors, physicalSectorSize(path, sectors));
        } catch (IOException e) {
            close(channel);
            throw new DiskException(path + ": cannot read its size: " + e.getMessage());
        } catch (DiskException e) {
            close(channel);
            throw e;
        }
    }

    /**
     * The file system's block size where it is a power of two from 512 to 64 KiB that divides the
     * disk (blkif.h: sectors * 512 must be a multiple of it), else 512.
     */
    private static int physicalSectorSize(Path path, long sectors) {
        try {
            long block = Files.getFileStore(path).getBlockSize();
            if (block >= Blkif.SECTOR_SIZE && block <= 65536 && Long.bitCount(block) == 1
                    && (sectors * Blkif.SECTOR_SIZE) % block == 0) {
                return (int) block;
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not every file system tells: 512 is always true
        }
        return Blkif.SECTOR_SIZE;
    }

    private static void close(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing was written through it
        }
    }

    public Path path() {
        return path;
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** 512-byte sectors served: the file's size when opened, rounded down. */
    public long sectors() {
        return sectors;
    }

    public int physicalSectorSize() {
        return physicalSectorSize;
    }

    /**
     * Reads into {@code into[0..count)}, filling each in turn, from byte {@code offset}: one
     * positional read for one buffer, else one scattering read (repeated while the kernel moves
     * less).
     *
     * @throws IOException also if the file ends first (it shrank under the disk)
     */
    public synchronized void read(long offset, ByteBuffer[] into, int count) throws IOException {
        if (count == 1) {
            read(offset, into[0]);
            return;
        }
        long total = remaining(into, count);
        seek(offset);
        for (long left = total; left > 0; ) {
            long n = channel.read(into, 0, count);
            if (n < 0) {
                throw new IOException("the image ends at byte " + (offset + total - left));
            }
            left -= n;
        }
        position = offset + total;
    }

    /**
     * Writes {@code from[0..count)}, each in turn, at byte {@code offset}: one positional write for
     * one buffer, else one gathering write (repeated while the kernel moves less).
     */
    public synchronized void write(long offset, ByteBuffer[] from, int count) throws IOException {
        if (readOnly) {
            throw new IOException("read-only");
        }
        if (count == 1) {
            write(offset, from[0]);
            return;
        }
        long total = remaining(from, count);
        seek(offset);
        for (long left = total; left > 0; ) {
            left -= channel.write(from, 0, count);
        }
        position = offset + total;
    }

    /**
     * Moves the channel's position to {@code offset}, unless it is there already (the last
     * scattering or gathering I/O ended there: sequential I/O saves an lseek). Until the I/O that
     * follows completes, the position counts as unknown.
     */
    private void seek(long offset) throws IOException {
        long at = position;
        position = -1;
        if (at != offset) {
            channel.position(offset);
        }
    }

    private void read(long offset, ByteBuffer into) throws IOException {
        long at = offset;
        while (into.hasRemaining()) {
            int n = channel.read(into, at);
            if (n < 0) {
                throw new IOException("the image ends at byte " + at);
            }
            at += n;
        }
    }

    private void write(long offset, ByteBuffer from) throws IOException {
        long at = offset;
        while (from.hasRemaining()) {
            at += channel.write(from, at);
        }
    }

    private static long remaining(ByteBuffer[] buffers, int count) {
        long bytes = 0;
        for (int i = 0; i < count; i++) {
            bytes += buffers[i].remaining();
        }
        return bytes;
    }

    /** Forces what was written to stable storage (fsync; metadata too, in case the file grew back). */
    public void flush() throws IOException {
        channel.force(true);
    }

    @Override
    public void close() {
        close(channel);
    }
}

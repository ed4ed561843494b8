using System.Runtime.InteropServices;
using Backy.Storage.IO;
using Microsoft.Win32.SafeHandles;

namespace Backy.Storage.Restore;

/// <summary>
/// A restore target named by a path. What it is comes from fstat of what was opened (symbolic links followed), never
/// from its name: a regular file is sized to the image (truncated first, so all-zero blocks stay holes and an old
/// longer file keeps no tail); a block device is overwritten in place, zeros included, after checking it is large
/// enough; a character device (<c>/dev/null</c>) or a FIFO gets the image in order through write(2) and no fsync.
/// Only a file this restore created is removed after a failure: an existing file, a device and whatever a symbolic
/// link points to are the operator's, and stay.
/// </summary>
/// <remarks>
/// Whole aligned blocks of files and block devices go through a second descriptor opened with O_DIRECT on the same
/// open file (<c>/proc/self/fd/N</c>): buffered writes first copy every byte into the page cache and then wait for
/// writeback, which on the development VM ran at a third of the disk's direct-write speed, and a restore of hundreds
/// of GiB would evict the backup server's whole cache for data nobody reads again. The unaligned tail, and every
/// write on a file system that refuses O_DIRECT (EINVAL at open or at the first write), go through the ordinary
/// descriptor; the final fsync on it covers both.
/// </remarks>
internal sealed class PathTarget : IImageTarget
{
    private readonly string _path;
    private SafeFileHandle? _handle;
    private SafeFileHandle? _direct;
    private bool _directProven;
    private DescriptorWriter? _stream;
    private Posix.FileStatus _opened;
    private bool _created;
    private bool _examined;

    /// <summary>Checks what needs no file system (an empty name); the rest happens in <see cref="Open"/>.</summary>
    public PathTarget(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new BackyException("restore target is empty: name a file, a block device, or - for stdout");
        _path = path;
    }

    public string Name => _path;

    /// <summary>Kind of what was opened (valid after <see cref="Open"/>).</summary>
    internal Posix.FileKind Kind => _opened.Kind;

    public void Open(long imageSize, string jobDirectory)
    {
        if (Directory.Exists(_path))
            throw new BackyException($"restore target '{_path}' is a directory: name a file in it, a block device, or - for stdout");
        RefuseInside(jobDirectory);
        var fd = OpenOrCreate();
        _handle = new SafeFileHandle(fd, ownsHandle: true);
        _opened = Posix.Fstat(fd) ?? throw Failed("cannot examine restore target", Marshal.GetLastPInvokeError());
        _examined = true;
        switch (_opened.Kind)
        {
            case Posix.FileKind.Regular:
                // Truncated first: an existing longer file would keep its old tail, and holes must read as zeros.
                RandomAccess.SetLength(_handle, 0);
                RandomAccess.SetLength(_handle, imageSize);
                _direct = OpenDirect(fd);
                break;
            case Posix.FileKind.BlockDevice:
                var size = Posix.Lseek(fd, 0, Posix.SEEK_END);
                if (size >= 0 && size < imageSize)
                    throw new BackyException($"cannot restore to block device '{_path}': it holds {size} bytes, the image {imageSize}");
                _direct = OpenDirect(fd);
                break;
            case Posix.FileKind.CharacterDevice or Posix.FileKind.Fifo:
                _stream = new DescriptorWriter(fd, $"'{_path}'");
                break;
            default:
                throw new BackyException($"cannot restore to '{_path}': it is a {_opened.Kind}, not a file or device");
        }
    }

    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_stream is not null)
        {
            _stream.Write(data.Span);
            return ValueTask.CompletedTask;
        }
        if (_direct is not null && AlignedBlock.IsDirectWritable(data.Span, offset))
        {
            try
            {
                RandomAccess.Write(_direct, data.Span, offset);
                _directProven = true;
                return ValueTask.CompletedTask;
            }
            catch (IOException) when (!_directProven)
            {
                // The first direct write failed (a file system that accepts the flag but not the I/O): give direct
                // I/O up for this target; a real disk error repeats on the buffered write.
                _direct.Dispose();
                _direct = null;
            }
        }
        try { RandomAccess.Write(_handle!, data.Span, offset); }
        catch (IOException e) { throw new BackyException($"cannot write restore target '{_path}': {DurableFile.Reason(e)}", e); }
        DurableFile.StartWriteback(_handle!, offset, data.Length);
        return ValueTask.CompletedTask;
    }

    // A regular file was sized after truncation: it reads as zeros there already, and stays sparse.
    public ValueTask WriteZerosAsync(long offset, ReadOnlyMemory<byte> zeros, CancellationToken cancellationToken) =>
        _opened.Kind == Posix.FileKind.Regular ? ValueTask.CompletedTask : WriteAsync(offset, zeros, cancellationToken);

    public Task CompleteAsync(CancellationToken cancellationToken)
    {
        // A character device or FIFO has nothing to sync (fsync of /dev/null is EINVAL).
        if (_stream is not null) return Task.CompletedTask;
        DurableFile.FlushToDisk(_handle!, _path);
        if (_created) DurableFile.FsyncDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
        return Task.CompletedTask;
    }

    public string Abandon()
    {
        if (_handle is null) return ""; // refused before anything was opened: nothing to say about the target
        if (!_examined) return _created && Posix.Unlink(_path) == 0 ? "the partial file was removed" : "";
        if (_opened.Kind != Posix.FileKind.Regular)
            return _stream is null ? $"'{_path}' holds a partial image" : $"{_stream.Written} bytes were written to '{_path}'";
        // Only the file this restore created, and only while the name still is that file.
        if (_created && Posix.Lstat(_path) is { } now && now.Device == _opened.Device && now.Inode == _opened.Inode
            && Posix.Unlink(_path) == 0)
            return "the partial file was removed";
        return $"'{_path}' holds a partial image";
    }

    public void Dispose()
    {
        _direct?.Dispose();
        _handle?.Dispose();
    }

    /// <summary>
    /// A target inside the job directory would overwrite the backup with itself (<c>restore -r X job/X</c> truncated
    /// the chunk map it was about to read). Compared by canonical path, symbolic links resolved.
    /// </summary>
    private void RefuseInside(string jobDirectory)
    {
        var job = Posix.Realpath(jobDirectory) ?? Path.GetFullPath(jobDirectory);
        var full = Path.GetFullPath(_path);
        var target = Posix.Realpath(full)
            ?? (Posix.Realpath(Path.GetDirectoryName(full) ?? "/") is { } dir ? Path.Combine(dir, Path.GetFileName(full)) : full);
        if (target == job || target.StartsWith(job.TrimEnd('/') + "/", StringComparison.Ordinal))
            throw new BackyException($"restore target '{_path}' is inside the job directory '{jobDirectory}': restoring there would overwrite the backup itself");
    }

    /// <summary>
    /// Creates the file when the name is free (O_EXCL: then, and only then, a failure removes it); otherwise opens
    /// what is there, following a symbolic link, without truncating (a device, or a file truncated after fstat).
    /// </summary>
    private int OpenOrCreate()
    {
        var fd = Posix.Open(_path, Posix.O_WRONLY | Posix.O_CREAT | Posix.O_EXCL | Posix.O_CLOEXEC, Convert.ToInt32("644", 8));
        if (fd >= 0)
        {
            _created = true;
            return fd;
        }
        var errno = Marshal.GetLastPInvokeError();
        if (errno != Posix.EEXIST) throw Failed("cannot create restore target", errno);
        fd = Posix.Open(_path, Posix.O_WRONLY | Posix.O_CLOEXEC, 0);
        if (fd >= 0) return fd;
        errno = Marshal.GetLastPInvokeError();
        if (errno == Posix.EISDIR)
            throw new BackyException($"restore target '{_path}' is a directory: name a file in it, a block device, or - for stdout");
        if (errno == Posix.ENOENT)
            throw new BackyException($"cannot open restore target '{_path}': it is a symbolic link to a missing file");
        throw Failed("cannot open restore target", errno);
    }

    private BackyException Failed(string what, int errno) => new($"{what} '{_path}': {Posix.ErrorText(errno)}");

    private static SafeFileHandle? OpenDirect(int fd)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var direct = Posix.Open($"/proc/self/fd/{fd}", Posix.O_WRONLY | Posix.O_DIRECT | Posix.O_CLOEXEC, 0);
        return direct < 0 ? null : new SafeFileHandle(direct, ownsHandle: true);
    }
}

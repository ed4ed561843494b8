using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Backy.Storage.IO;

/// <summary>
/// Crash-safe file writes: temp file in the same directory, write, fsync, rename, fsync the directory.
/// After a crash either the old or the new content is there, never a torn file.
/// </summary>
public static class DurableFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content, UnixFileMode? mode = null)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = TempPathFor(path);
        try
        {
            using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None))
            {
                RandomAccess.Write(handle, content, 0);
                FlushToDisk(handle, temp);
            }
            if (mode is { } m && !OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, m);
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException e)
        {
            TryDelete(temp);
            throw new BackyException($"cannot write '{path}': {Reason(e)}", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        FsyncDirectory(dir);
    }

    public static void WriteAllText(string path, string content, UnixFileMode? mode = null) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(content), mode);

    /// <summary>A temp name that cannot collide with a concurrent writer and that purge recognises.</summary>
    public static string TempPathFor(string path) =>
        $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}{TempSuffix}";

    /// <summary>Frozen: files ending in this are leftovers of interrupted writes and may be deleted.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>
    /// True when the temp file's writer (the process id in its name, see <see cref="TempPathFor"/>) is gone.
    /// Purge deletes only those: a temp of a live writer may be a .rev or config being written right now by a
    /// command that holds no purge lock (tags, distrust, the daemon's config), and deleting it fails that write.
    /// A name without a process id (an older writer) counts as abandoned; a reused process id only keeps a
    /// leftover until the next purge.
    /// </summary>
    public static bool IsAbandonedTemp(string path)
    {
        var name = Path.GetFileName(path);
        if (!name.EndsWith(TempSuffix, StringComparison.Ordinal)) return false;
        var parts = name[..^TempSuffix.Length].Split('.');
        if (parts.Length < 3 || !int.TryParse(parts[^2], out var pid) || pid <= 0) return true;
        return pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}");
    }

    public static void FlushToDisk(SafeFileHandle handle, string pathForErrors)
    {
        var fd = (int)handle.DangerousGetHandle();
        if (Posix.Fsync(fd) != 0)
            throw new BackyException($"cannot sync '{pathForErrors}': {Posix.ErrorText(Marshal.GetLastPInvokeError())}");
    }

    /// <summary>
    /// Starts writeback of a file range without waiting for it. The kernel would otherwise hold the dirty
    /// pages until a later sync (gigabytes on a large-memory machine) and do all the writing there; this
    /// lets the disk work while we compute. Errors are ignored: the later fsync/syncfs reports them.
    /// </summary>
    public static void StartWriteback(SafeFileHandle handle, long offset, long length) =>
        Posix.SyncFileRange((int)handle.DangerousGetHandle(), offset, length, Posix.SYNC_FILE_RANGE_WRITE);

    /// <summary>
    /// Grows the pipe behind <paramref name="fd"/> (if it is one) to 1 MiB: a 64 KiB pipe makes a 4 MiB block
    /// cost 64 context switches between us and the reader (1 MiB is also the unprivileged limit,
    /// /proc/sys/fs/pipe-max-size). Harmless on anything that is not a pipe. Returns the pipe's new size,
    /// or -1 when it was not changed (not a pipe, not Linux): a pipe of the default size still works.
    /// </summary>
    public static int TryGrowPipe(int fd) => OperatingSystem.IsLinux() ? Posix.Fcntl(fd, Posix.F_SETPIPE_SZ, 1 << 20) : -1;

    public static void FsyncDirectory(string directory) => OnDirectory(directory, Posix.Fsync, "sync directory");

    /// <summary>Flushes every dirty page of the file system holding <paramref name="directory"/>: one call
    /// instead of one fsync per chunk file, which is what makes batched chunk writes cheap.</summary>
    public static void SyncFileSystem(string directory) => OnDirectory(directory, Posix.Syncfs, "sync file system of");

    private static void OnDirectory(string directory, Func<int, int> call, string what)
    {
        var fd = Posix.Open(directory, Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        if (fd < 0)
            throw new BackyException($"cannot open directory '{directory}': {Posix.ErrorText(Marshal.GetLastPInvokeError())}");
        try
        {
            if (call(fd) != 0)
                throw new BackyException($"cannot {what} '{directory}': {Posix.ErrorText(Marshal.GetLastPInvokeError())}");
        }
        finally { Posix.Close(fd); }
    }

    /// <summary>
    /// The system's reason for a failed file operation ("No space left on device"), without the path .NET
    /// appends (ours is often a temp name; callers name the file the user knows).
    /// </summary>
    public static string Reason(IOException e) =>
        // On Unix, .NET puts the errno into HResult; other IOExceptions carry an HRESULT (negative) or 0.
        e.HResult is > 0 and < 4096 ? Posix.ErrorText(e.HResult) : e.Message;

    public static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

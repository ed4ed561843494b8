using System.Runtime.InteropServices;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Reliability;

/// <summary>The kind of file system a <see cref="SmallFileSystem"/> is.</summary>
public enum SmallFileSystemKind
{
    /// <summary>tmpfs: refuses a write the moment a page does not fit.</summary>
    Tmpfs,

    /// <summary>ext4 on a loop device (what backup servers run): delayed allocation, block reservations, a journal.</summary>
    Ext4,
}

/// <summary>
/// A small real file system mounted on a fresh temp directory, to run out of space for real (ENOSPC from the kernel,
/// not a simulated failure). Needs root (CI runs as root); where mounting is not allowed (an unprivileged container)
/// the test is skipped with the reason. Always unmounted on dispose (lazily, so a process still holding a file there
/// cannot keep it mounted; a loop device mounted with <c>-o loop</c> is released with it).
/// </summary>
public sealed class SmallFileSystem : IDisposable
{
    private readonly List<string> _fillers = [];
    private readonly string? _imageFile;
    private bool _mounted;

    public string Path { get; }

    public SmallFileSystemKind Kind { get; }

    private SmallFileSystem(string path, SmallFileSystemKind kind, string? imageFile)
    {
        Path = path;
        Kind = kind;
        _imageFile = imageFile;
    }

    /// <summary>Mounts a file system of <paramref name="bytes"/> on <paramref name="path"/> (a new temp directory when
    /// null), or skips the test with the reason.</summary>
    public static SmallFileSystem MountOrIgnore(long bytes, SmallFileSystemKind kind = SmallFileSystemKind.Tmpfs, string? path = null)
    {
        path ??= System.IO.Path.Combine(System.IO.Path.GetTempPath(), "backy-full-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return kind == SmallFileSystemKind.Tmpfs ? MountTmpfs(path, bytes) : MountExt4(path, bytes);
    }

    private static SmallFileSystem MountTmpfs(string path, long bytes)
    {
        var fs = new SmallFileSystem(path, SmallFileSystemKind.Tmpfs, null);
        if (Mount("tmpfs", path, "tmpfs", 0, $"size={bytes},mode=0755") != 0)
        {
            var reason = Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            fs.Dispose();
            Assert.Ignore($"cannot mount a {bytes}-byte tmpfs on {path} ({reason}): this test needs root or CAP_SYS_ADMIN");
        }
        fs._mounted = true;
        return fs;
    }

    private static SmallFileSystem MountExt4(string path, long bytes)
    {
        var image = path + ".ext4";
        var fs = new SmallFileSystem(path, SmallFileSystemKind.Ext4, image);
        using (var f = new FileStream(image, FileMode.CreateNew))
            f.SetLength(bytes);
        // 4 KiB blocks (mke2fs would pick 1 KiB for a file system this small), no root reserve: every free block
        // counts, also for root.
        Run(fs, "mkfs.ext4", "-q", "-F", "-b", "4096", "-m", "0", image);
        Run(fs, "mount", "-o", "loop", image, path);
        fs._mounted = true;
        return fs;
    }

    private static void Run(SmallFileSystem fs, string tool, params string[] args)
    {
        BufferedCommandResult r;
        try
        {
            r = CliWrap.Cli.Wrap(tool).WithArguments(args).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync().GetAwaiter().GetResult();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            fs.Dispose();
            Assert.Ignore($"cannot run {tool}: {e.Message}");
            throw;
        }
        if (r.ExitCode == 0)
            return;
        fs.Dispose();
        if (Environment.GetEnvironmentVariable("CI") == "true")
            Assert.Fail($"{tool} {string.Join(' ', args)} failed: {r.StandardError.Trim()}");
        Assert.Ignore($"{tool} {string.Join(' ', args)} failed (needs root and loop devices): {r.StandardError.Trim()}");
    }

    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>Fills the file system with a new file until at most <paramref name="leave"/> bytes are free (or the
    /// kernel refuses more, whichever comes first); returns the file's path.</summary>
    public string Fill(long leave)
    {
        var filler = NewFiller();
        var zeros = new byte[64 * 1024];
        using var f = new FileStream(filler, FileMode.CreateNew, FileAccess.Write);
        try
        {
            while (FreeBytes > leave)
            {
                f.Write(zeros, 0, (int)Math.Min(zeros.Length, Math.Max(4096, FreeBytes - leave)));
                f.Flush(flushToDisk: Kind == SmallFileSystemKind.Ext4); // ext4 counts delayed blocks only once written
            }
        }
        catch (IOException) { /* full: as much as fits */ }
        return filler;
    }

    /// <summary>Writes a filler file until the kernel says ENOSPC, then the last partial block one byte at a time,
    /// so that no line fits any more.</summary>
    public void Fill()
    {
        var block = new byte[16 * 1024];
        using var file = new FileStream(NewFiller(), FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        try
        {
            while (true)
                file.Write(block);
        }
        catch (IOException) { }
        try
        {
            while (true)
                file.Write(block.AsSpan(0, 1));
        }
        catch (IOException) { }
    }

    /// <summary>Deletes every filler file.</summary>
    public void Free()
    {
        foreach (var filler in _fillers)
            File.Delete(filler);
        _fillers.Clear();
    }

    private string NewFiller()
    {
        var filler = System.IO.Path.Combine(Path, "filler-" + Guid.NewGuid().ToString("N")[..8]);
        _fillers.Add(filler);
        return filler;
    }

    public void Dispose()
    {
        if (_mounted && Umount2(Path, MntDetach) != 0)
            TestContext.Progress.WriteLine($"warning: cannot unmount {Path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        _mounted = false;
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        if (_imageFile is not null)
            File.Delete(_imageFile);
    }

    private const int MntDetach = 2;

    // DllImport, not LibraryImport: the test project does not allow unsafe code.
    [DllImport("libc", EntryPoint = "mount", SetLastError = true)]
    private static extern int Mount(string source, string target, string fileSystemType, ulong flags, string data);

    [DllImport("libc", EntryPoint = "umount2", SetLastError = true)]
    private static extern int Umount2(string target, int flags);
}

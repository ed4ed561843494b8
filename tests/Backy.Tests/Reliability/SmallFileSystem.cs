using System.Runtime.InteropServices;

namespace Backy.Tests.Reliability;

/// <summary>
/// A small tmpfs mounted on a fresh temp directory, to run out of space for real (ENOSPC from the kernel, not a
/// simulated failure). Needs root (CI runs as root); <see cref="MountOrIgnore"/> skips the test with the reason
/// where mounting is not allowed (an unprivileged container). Always unmounted on dispose (lazily, so a process
/// still holding a file there cannot keep it mounted).
/// </summary>
public sealed class SmallFileSystem : IDisposable
{
    public string Path { get; }
    private bool _mounted;

    private SmallFileSystem(string path) => Path = path;

    public static SmallFileSystem MountOrIgnore(long bytes)
    {
        var fs = new SmallFileSystem(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "backy-full-" + Guid.NewGuid().ToString("N")[..12]));
        Directory.CreateDirectory(fs.Path);
        if (Mount("tmpfs", fs.Path, "tmpfs", 0, $"size={bytes},mode=0755") != 0)
        {
            var reason = Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            fs.Dispose();
            Assert.Ignore($"cannot mount a {bytes}-byte tmpfs on {fs.Path} ({reason}): this test needs root or CAP_SYS_ADMIN");
        }
        fs._mounted = true;
        return fs;
    }

    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>Fills the file system with a file until at most <paramref name="leave"/> bytes are free.</summary>
    public string Fill(long leave)
    {
        var filler = System.IO.Path.Combine(Path, "filler-" + Guid.NewGuid().ToString("N")[..8]);
        var zeros = new byte[64 * 1024];
        using var f = new FileStream(filler, FileMode.CreateNew, FileAccess.Write);
        try
        {
            while (FreeBytes > leave)
            {
                f.Write(zeros, 0, (int)Math.Min(zeros.Length, Math.Max(4096, FreeBytes - leave)));
                f.Flush();
            }
        }
        catch (IOException) { /* full: as much as fits */ }
        return filler;
    }

    public void Dispose()
    {
        if (_mounted && Umount2(Path, MntDetach) != 0)
            TestContext.Progress.WriteLine($"warning: cannot unmount {Path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        _mounted = false;
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private const int MntDetach = 2;

    // DllImport, not LibraryImport: the test project does not allow unsafe code.
    [DllImport("libc", EntryPoint = "mount", SetLastError = true)]
    private static extern int Mount(string source, string target, string fileSystemType, ulong flags, string data);

    [DllImport("libc", EntryPoint = "umount2", SetLastError = true)]
    private static extern int Umount2(string target, int flags);
}

using System.Text;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Storage.Support;

/// <summary>
/// A file on a FUSE file system that does not answer SEEK_DATA/SEEK_HOLE: <c>nbdfuse</c> (libnbd-bin) serving
/// <c>nbdkit file BACKING</c>. nbdfuse has no lseek handler, so the kernel's generic code reports the whole file
/// as data, as on vfat or an NFS server without SEEK_DATA. Needs root or fuse permissions and /dev/fuse; a test
/// is ignored (with the reason) where it cannot mount, except in CI where that is a failure.
/// </summary>
public sealed class NbdFuseFile : IAsyncDisposable
{
    private readonly string _mountDir;
    private readonly CancellationTokenSource _stop;
    private readonly CommandTask<BufferedCommandResult> _process;

    public string Path { get; }

    private NbdFuseFile(string mountDir, CancellationTokenSource stop, CommandTask<BufferedCommandResult> process)
    {
        _mountDir = mountDir;
        _stop = stop;
        _process = process;
        Path = System.IO.Path.Combine(mountDir, "disk");
    }

    /// <param name="nbdkitFilters">nbdkit filter options before the plugin, e.g. <c>--filter=rate</c>, and their
    /// settings after it (<paramref name="filterSettings"/>, e.g. <c>rate=32M</c>: a source slowed to 4 MiB/s).</param>
    public static async Task<NbdFuseFile> MountOrIgnoreAsync(string backing, string mountDir, CancellationToken cancellationToken,
        string[]? nbdkitFilters = null, string[]? filterSettings = null)
    {
        foreach (var tool in new[] { "nbdfuse", "nbdkit", "fusermount3" })
            if (!File.Exists("/usr/bin/" + tool))
                IgnoreOrFail($"{tool} is not installed (scripts/install-deps installs libnbd-bin, nbdkit, fuse3)");
        if (!File.Exists("/dev/fuse")) IgnoreOrFail("/dev/fuse does not exist");
        Directory.CreateDirectory(mountDir);
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var process = CliWrap.Cli.Wrap("/usr/bin/nbdfuse")
            .WithArguments(["--readonly", System.IO.Path.Combine(mountDir, "disk"), "--command", "nbdkit", "-s", .. nbdkitFilters ?? [], "file", backing, .. filterSettings ?? []])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(Encoding.UTF8, stop.Token);
        var mounted = new NbdFuseFile(mountDir, stop, process);
        var size = new FileInfo(backing).Length;
        // Poll: the virtual file appears once FUSE is mounted and nbdkit answers.
        for (var i = 0; i < 300; i++)
        {
            if (process.Task.IsCompleted)
            {
                var r = await process;
                IgnoreOrFail($"nbdfuse exited with {r.ExitCode}: {r.StandardError.Trim()}");
            }
            try
            {
                if (File.Exists(mounted.Path) && new FileInfo(mounted.Path).Length == size) return mounted;
            }
            catch (IOException) { }
            await Task.Delay(100, cancellationToken);
        }
        await mounted.DisposeAsync();
        Assert.Fail($"nbdfuse did not mount {mounted.Path} within 30 s");
        return mounted;
    }

    private static void IgnoreOrFail(string reason)
    {
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(reason);
        Assert.Ignore(reason);
    }

    public async ValueTask DisposeAsync()
    {
        await CliWrap.Cli.Wrap("/usr/bin/fusermount3").WithArguments(["-u", "-z", _mountDir])
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        try { await _process.Task.WaitAsync(TimeSpan.FromSeconds(10)); }
        catch (TimeoutException) { await _stop.CancelAsync(); } // not unmounted: kill nbdfuse (the mount goes with it)
        catch (OperationCanceledException) { }
        try { await _process; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}

using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Daemon.Support;

/// <summary>
/// A real, tiny file system (tmpfs of a fixed size) mounted on a temp directory, to fill up for real:
/// ENOSPC from the kernel, not from a fake. Mounting needs root (CI runs as root); elsewhere the test
/// is skipped and says why.
/// </summary>
public sealed class SmallFileSystem : IAsyncDisposable
{
    private readonly string _filler;

    public string Path { get; }

    private SmallFileSystem(string path)
    {
        Path = path;
        _filler = System.IO.Path.Combine(path, "filler");
    }

    public static async Task<SmallFileSystem> MountAsync(string path, int kib, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(path);
        BufferedCommandResult mount;
        try
        {
            mount = await CliWrap.Cli.Wrap("mount").WithArguments(["-t", "tmpfs", "-o", $"size={kib}k", "tmpfs", path])
                .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(cancellationToken);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Ignore($"cannot run mount: {e.Message}");
            throw;
        }
        if (mount.ExitCode != 0)
            Assert.Ignore($"cannot mount a tmpfs on {path} (needs root): {mount.StandardError.Trim()}");
        return new SmallFileSystem(path);
    }

    /// <summary>Writes a filler file until the kernel says ENOSPC.</summary>
    public void Fill()
    {
        var block = new byte[16 * 1024];
        using var file = new FileStream(_filler, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        try
        {
            while (true)
                file.Write(block);
        }
        catch (IOException)
        {
        }
        // The last partial page as well, one byte at a time, so that no line fits any more.
        try
        {
            while (true)
                file.Write(block.AsSpan(0, 1));
        }
        catch (IOException)
        {
        }
    }

    public void Free() => File.Delete(_filler);

    public async ValueTask DisposeAsync()
    {
        await CliWrap.Cli.Wrap("umount").WithArguments(["-l", Path]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
    }
}

using System.Text;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Storage.Support;

/// <summary>
/// A real block device: a loop device (<c>losetup -f --show FILE</c>) over a backing file. Needs root (CI and this
/// machine run as root); where losetup says "Permission denied" the test is ignored with that reason, any other
/// failure fails it. <see cref="Detach"/> is meant for a [TearDown], so that a failing test leaves no device behind.
/// All I/O of a test goes through the device, never the backing file (the device has its own page cache).
/// </summary>
public sealed class LoopDevice
{
    private LoopDevice(string path, string backing)
    {
        Path = path;
        Backing = backing;
    }

    /// <summary>/dev/loopN.</summary>
    public string Path { get; }

    public string Backing { get; }

    /// <summary>Creates a zero-filled backing file of <paramref name="size"/> bytes (a multiple of 512) and attaches it.</summary>
    public static async Task<LoopDevice> AttachOrIgnoreAsync(string backing, long size, CancellationToken cancellationToken)
    {
        await using (var f = File.Create(backing)) f.SetLength(size);
        if (!File.Exists("/usr/sbin/losetup") && !File.Exists("/sbin/losetup"))
            Assert.Fail("losetup is missing (util-linux mount package)");
        // Two attaches racing for the same free device: losetup reports EBUSY; ask for another one.
        for (var attempt = 0; ; attempt++)
        {
            var r = await CliWrap.Cli.Wrap("losetup").WithArguments(["-f", "--show", backing])
                .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(Encoding.UTF8, cancellationToken);
            if (r.ExitCode == 0) return new LoopDevice(r.StandardOutput.Trim(), backing);
            if (r.StandardError.Contains("Permission denied", StringComparison.OrdinalIgnoreCase))
                Assert.Ignore($"losetup cannot attach a loop device here (needs root): {r.StandardError.Trim()}");
            if (attempt >= 5 || !r.StandardError.Contains("busy", StringComparison.OrdinalIgnoreCase))
                Assert.Fail($"losetup -f --show {backing} failed ({r.ExitCode}): {r.StandardError.Trim()}");
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> through the device and syncs it.</summary>
    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        using var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Write);
        RandomAccess.Write(handle, data, offset);
        RandomAccess.FlushToDisk(handle);
    }

    /// <summary>The device's whole content, read through the device.</summary>
    public byte[] ReadAll()
    {
        using var f = new FileStream(Path, FileMode.Open, FileAccess.Read);
        using var copy = new MemoryStream();
        f.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Detaches the device (losetup -d) and deletes the backing file; never throws.</summary>
    public void Detach()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            CliWrap.Cli.Wrap("losetup").WithArguments(["-d", Path]).WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(timeout.Token).Task.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException) { }
        try { File.Delete(Backing); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

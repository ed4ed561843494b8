using Backy.Storage;
using Backy.Storage.Backup;
using Backy.Storage.IO;
using Microsoft.Win32.SafeHandles;

namespace Backy.Sources;

/// <summary>An open source file: its size is fixed when opened; reads go straight to the file.</summary>
internal sealed class FileSnapshot : ISourceSnapshot
{
    // The one open of the file: positional reads and hole queries (the engine reads a file in parallel, never as a
    // stream: ParallelFullRead, so no OpenFullReadAsync).
    private readonly SafeFileHandle _handle;

    private FileSnapshot(SafeFileHandle handle, long size)
    {
        _handle = handle;
        Size = size;
    }

    public static FileSnapshot Open(string path)
    {
        try
        {
            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            try
            {
                // lseek to the end, not fstat (nor FileStream.Seek, which asks fstat): block devices report st_size 0.
                return new FileSnapshot(handle, DeviceLength.OfSource(handle, path));
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }
        catch (FileNotFoundException) { throw new BackyException($"cannot read source '{path}': file not found"); }
        catch (DirectoryNotFoundException) { throw new BackyException($"cannot read source '{path}': directory not found"); }
        catch (UnauthorizedAccessException) { throw new BackyException($"cannot read source '{path}': permission denied"); }
        catch (IOException e) { throw new BackyException($"cannot read source '{path}': {Backy.Storage.IO.IoErrors.Reason(e)}", e); }
        // A FIFO, socket or character device: its size is unknown (or a lie: /dev/null) and the verification re-reads what was stored.
        catch (NotSupportedException e) { throw new BackyException($"cannot read source '{path}': not a regular file or block device ({e.Message})", e); }
    }

    public long Size { get; }

    public VerificationPolicy Verification => VerificationPolicy.Full;

    /// <summary>A local file: positional reads from several threads are as cheap as one stream.</summary>
    public bool ParallelFullRead => true;

    /// <summary>SEEK_DATA/SEEK_HOLE on the open file, asked each time (the verification asks again).</summary>
    public ValueTask<KnownHoles?> FindHolesAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(FileHoles.Find(_handle, Size));

    public Task<ISourceDiff?> OpenDiffAsync(CancellationToken cancellationToken) => Task.FromResult<ISourceDiff?>(null);

    public async ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await RandomAccess.ReadAsync(_handle, buffer[total..], offset + total, cancellationToken).ConfigureAwait(false);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    public Task CompleteAsync(bool success, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _handle.Dispose();
        return ValueTask.CompletedTask;
    }
}

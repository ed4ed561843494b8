using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Backy.Storage;
using Backy.Storage.Restore;

namespace Backy.Sources.Ceph;

/// <summary>
/// A restore into an RBD image (<c>rbd:POOL/IMAGE</c>) through librbd: creates the image with the revision's size
/// when it is missing (holes then stay unwritten: a new image reads as zeroes), or writes an existing one in
/// place after resizing it to the revision's size (holes become <c>rbd_aio_write_zeroes</c>, which discards whole
/// objects). Up to <see cref="WritesInFlight"/> writes run concurrently: the caller's buffer is copied into one of
/// as many pooled buffers and the call returns as soon as the write is submitted (one write at a time would wait
/// out an OSD round trip per 4 MiB; <c>rbd import</c> keeps 10 in flight). Reads (changed-blocks restore) use
/// <c>rbd_aio_read</c>.
/// </summary>
public sealed class RbdRestoreTarget : IRestoreTarget
{
    /// <summary>rbd import's rbd_concurrent_management_ops is 10; 8 x 4 MiB keeps the copies at 32 MiB.</summary>
    public const int WritesInFlight = 8;

    private readonly CephClientOptions _options;
    private readonly RbdImageSpec _spec;
    private readonly SemaphoreSlim _slots = new(WritesInFlight, WritesInFlight);
    private readonly List<Task> _pending = [];
    // At most WritesInFlight copies exist (the slots bound them); kept for the whole restore instead of renting
    // 4 MiB arrays from the shared pool, which hands them out per thread and would allocate most of them anew.
    private readonly ConcurrentBag<byte[]> _buffers = [];
    private readonly Lock _lock = new();
    private RbdConnection? _connection;
    private RbdImage? _image;
    private Exception? _failure;

    public RbdRestoreTarget(CephClientOptions options, RbdImageSpec spec)
    {
        _options = options;
        _spec = spec;
    }

    public string Name => RbdTargetSpec.Prefix + _spec;

    /// <summary>True when this restore created the image (then holes need no writes).</summary>
    public bool Created { get; private set; }

    public bool UnwrittenReadsAsZeroes => Created;

    public int Concurrency => WritesInFlight;

    private RbdImage Image => _image ?? throw new InvalidOperationException("PrepareAsync first");

    /// <summary>Opens (or creates) the image and sizes it to <paramref name="size"/> bytes.</summary>
    public Task PrepareAsync(long size, CancellationToken cancellationToken)
    {
        try
        {
            _connection = RbdConnection.Open(_options, _spec.Pool);
            try
            {
                _image = _connection.OpenImage(_spec.Image);
            }
            catch (LibRbdException e) when (e.NotFound)
            {
                _connection.CreateImage(_spec.Image, size);
                Created = true;
                _image = _connection.OpenImage(_spec.Image);
            }
            if (_image.Size != size) _image.Resize(size);
        }
        catch (LibRbdException e)
        {
            throw new BackyException($"cannot write restore target {Name}: {e.Message}", e);
        }
        return Task.CompletedTask;
    }

    public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) => Image.ReadAsync(offset, buffer);

    public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await AcquireAsync(cancellationToken).ConfigureAwait(false);
        if (!_buffers.TryTake(out var copy) || copy.Length < data.Length) copy = GC.AllocateUninitializedArray<byte>(Math.Max(data.Length, 4 << 20));
        data.CopyTo(copy);
        Track(Run(copy, Image.WriteAsync(offset, copy.AsMemory(0, data.Length))));
    }

    public async ValueTask WriteZeroesAsync(long offset, int length, CancellationToken cancellationToken)
    {
        await AcquireAsync(cancellationToken).ConfigureAwait(false);
        Track(Run(null, Image.ZeroAsync(offset, length)));
    }

    /// <summary>Waits for every write, then flushes: the image then holds the restore durably.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await WaitForWritesAsync().ConfigureAwait(false);
        ThrowIfFailed();
        await Image.FlushAsync().ConfigureAwait(false);
    }

    private async Task WaitForWritesAsync()
    {
        Task[] pending;
        lock (_lock) pending = [.. _pending];
        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    private async Task Run(byte[]? buffer, ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            lock (_lock) _failure ??= e;
        }
        finally
        {
            if (buffer is not null) _buffers.Add(buffer);
            _slots.Release();
        }
    }

    private void Track(Task task)
    {
        lock (_lock)
        {
            _pending.RemoveAll(t => t.IsCompleted);
            _pending.Add(task);
        }
    }

    /// <summary>Waits for a free write slot; an earlier write's failure surfaces here, at the next write.</summary>
    private async ValueTask AcquireAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (Failure() is not { } failure) return;
        _slots.Release();
        ExceptionDispatchInfo.Throw(failure);
    }

    private Exception? Failure()
    {
        lock (_lock) return _failure;
    }

    private void ThrowIfFailed()
    {
        if (Failure() is { } failure) ExceptionDispatchInfo.Throw(failure);
    }

    public async ValueTask DisposeAsync()
    {
        // librbd reads the copies until each write completes (Run never throws).
        await WaitForWritesAsync().ConfigureAwait(false);
        _image?.Dispose();
        _connection?.Dispose();
        _slots.Dispose();
    }
}

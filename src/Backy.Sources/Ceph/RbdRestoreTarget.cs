using System.Runtime.ExceptionServices;
using Backy.Storage;
using Backy.Storage.Restore;

namespace Backy.Sources.Ceph;

/// <summary>
/// A restore into an RBD image (<c>rbd:POOL/IMAGE</c>) through librbd: creates the image with the revision's size
/// when it is missing (holes then stay unwritten: a new image reads as zeroes), or writes an existing one in
/// place after resizing it to the revision's size (holes become <c>rbd_aio_write_zeroes</c>, which discards whole
/// objects). Up to <see cref="WritesInFlight"/> writes run concurrently, as in <c>rbd import</c>. Writes are
/// zero-copy: librbd sends from the engine's block buffer, and a write's task completes only when librbd has let
/// go of it (the OSD committed the write), so the engine keeps that many buffers pending
/// (<see cref="RbdConnection"/> explains the settings: no client cache, which would need a copy of every write).
/// Reads (changed-blocks restore) use <c>rbd_aio_read</c>.
/// </summary>
public sealed class RbdRestoreTarget : IRestoreTarget
{
    /// <summary>rbd import's rbd_concurrent_management_ops (10); each holds one of the engine's block buffers.</summary>
    public const int WritesInFlight = 10;

    private readonly CephClientOptions _options;
    private readonly RbdImageSpec _spec;
    private readonly SemaphoreSlim _slots = new(WritesInFlight, WritesInFlight);
    private readonly List<Task> _pending = [];
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
            _connection = RbdConnection.Open(_options, _spec.Pool, zeroCopyWrites: true);
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
        // librbd sends from data's buffer (no copy): the caller may reuse it only when the write completed.
        var write = Run(Image.WriteAsync(offset, data));
        Track(write);
        await write.ConfigureAwait(false);
        ThrowIfFailed();
    }

    public async ValueTask WriteZeroesAsync(long offset, int length, CancellationToken cancellationToken)
    {
        await AcquireAsync(cancellationToken).ConfigureAwait(false);
        Track(Run(Image.ZeroAsync(offset, length)));
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

    private async Task Run(ValueTask write)
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
        // rbd_close would wait for the writes too; Run never throws.
        await WaitForWritesAsync().ConfigureAwait(false);
        _image?.Dispose();
        _connection?.Dispose();
        _slots.Dispose();
    }
}

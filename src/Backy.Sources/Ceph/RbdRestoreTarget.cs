using System.Runtime.ExceptionServices;
using Backy.Storage;
using Backy.Storage.Restore;

namespace Backy.Sources.Ceph;

/// <summary>
/// A restore into an RBD image (<c>rbd:POOL/IMAGE</c>) through librbd: creates the image with the revision's size
/// when it is missing (holes then stay unwritten: a new image reads as zeroes), or writes an existing one in
/// place after resizing it to the revision's size (holes become <c>rbd_aio_write_zeroes</c>, which discards whole
/// objects). Up to <see cref="WritesInFlight"/> writes run concurrently, as in <c>rbd import</c>; each call returns
/// as soon as its write is submitted, because <c>rbd_aio_write</c> copies the caller's buffer at submit (the
/// connection makes sure of it, <see cref="RbdConnection"/>), so the engine's block buffer is free at once. The
/// connection is a writer's: the write-around cache acknowledges what it has sent, as for <c>rbd import</c>, and
/// the final flush makes it durable. Reads (changed-blocks restore) use <c>rbd_aio_read</c>.
/// </summary>
public sealed class RbdRestoreTarget : IRestoreTarget
{
    /// <summary>rbd import's rbd_concurrent_management_ops (10). librbd holds a copy of each until it completes.</summary>
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
            _connection = RbdConnection.Open(_options, _spec.Pool, writes: true);
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
        // librbd has copied the data when this returns (see the class comment): no copy of our own.
        Track(Run(Image.WriteAsync(offset, data)));
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

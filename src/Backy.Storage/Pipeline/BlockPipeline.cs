using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Backy.Storage.Chunks;

namespace Backy.Storage.Pipeline;

/// <summary>One block handed from the producer (a reader) to the workers.</summary>
internal readonly record struct BlockWork(long Index, byte[] Buffer, int Length)
{
    public Span<byte> Data => Buffer.AsSpan(0, Length);
}

/// <summary>
/// A producer fills pooled block buffers and posts them; <c>workers</c> threads process them (hash,
/// compress, write) and return the buffers. The first failure cancels everything and is rethrown by
/// <see cref="CompleteAsync"/>. Bounded: at most the pool's buffers are in flight.
/// </summary>
internal sealed class BlockPipeline
{
    private readonly BlockBufferPool _pool;
    private readonly Channel<BlockWork> _queue;
    private readonly Task[] _workers;
    private readonly CancellationTokenSource _cts;

    /// <param name="process">Runs on a worker thread with that worker's own scratch buffer (ChunkStore.ScratchSize).</param>
    public BlockPipeline(int workers, Action<BlockWork, byte[]> process, CancellationToken cancellationToken)
    {
        workers = Math.Max(1, workers);
        // Two buffers per worker plus one being filled: the reader never waits on a busy worker's buffer.
        _pool = new BlockBufferPool(2 * workers + 1);
        _queue = Channel.CreateBounded<BlockWork>(new BoundedChannelOptions(workers) { SingleWriter = true });
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _workers = Enumerable.Range(0, workers).Select(_ => Task.Run(() => WorkAsync(process))).ToArray();
    }

    public CancellationToken Token => _cts.Token;

    public ValueTask<byte[]> RentAsync() => _pool.RentAsync(_cts.Token);

    public void Return(byte[] buffer) => _pool.Return(buffer);

    public ValueTask PostAsync(BlockWork work) => _queue.Writer.WriteAsync(work, _cts.Token);

    private async Task WorkAsync(Action<BlockWork, byte[]> process)
    {
        var scratch = GC.AllocateUninitializedArray<byte>(ChunkStore.ScratchSize);
        try
        {
            await foreach (var work in _queue.Reader.ReadAllAsync(_cts.Token).ConfigureAwait(false))
            {
                try { process(work, scratch); }
                finally { _pool.Return(work.Buffer); }
            }
        }
        catch
        {
            _cts.Cancel();
            throw;
        }
    }

    /// <summary>Waits for the workers. Call after the last post, or with the producer's failure.
    /// A worker's own failure wins over the producer's (which is then usually just the cancellation).</summary>
    public async Task CompleteAsync(Exception? producerFailure = null)
    {
        if (producerFailure is not null) _cts.Cancel();
        _queue.Writer.TryComplete();
        try { await Task.WhenAll(_workers).ConfigureAwait(false); }
        catch { /* inspected below */ }
        _cts.Dispose();
        var failures = _workers.Where(w => w.IsFaulted).Select(w => w.Exception!.InnerException!).ToList();
        var real = failures.FirstOrDefault(e => e is not OperationCanceledException);
        if (real is not null) ExceptionDispatchInfo.Throw(real);
        if (producerFailure is not null) ExceptionDispatchInfo.Throw(producerFailure);
        if (failures.Count > 0) ExceptionDispatchInfo.Throw(failures[0]);
        if (_workers.Any(w => w.IsCanceled)) throw new OperationCanceledException();
    }
}

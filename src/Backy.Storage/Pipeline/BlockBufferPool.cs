using System.Threading.Channels;
using Backy.Storage.Chunks;

namespace Backy.Storage.Pipeline;

/// <summary>
/// A fixed number of block-sized buffers: renting waits while all are in use. This is what bounds a
/// pipeline's memory whatever the image size (capacity x 4 MiB), and it allocates nothing per block.
/// </summary>
internal sealed class BlockBufferPool
{
    private readonly Channel<byte[]> _free;
    private readonly int _capacity;
    private int _allocated;

    public BlockBufferPool(int capacity)
    {
        _capacity = capacity;
        _free = Channel.CreateBounded<byte[]>(capacity);
    }

    public ValueTask<byte[]> RentAsync(CancellationToken cancellationToken)
    {
        if (_free.Reader.TryRead(out var buffer)) return ValueTask.FromResult(buffer);
        if (Interlocked.Increment(ref _allocated) <= _capacity)
            return ValueTask.FromResult(GC.AllocateUninitializedArray<byte>(Blocks.Size));
        Interlocked.Decrement(ref _allocated);
        return _free.Reader.ReadAsync(cancellationToken);
    }

    public void Return(byte[] buffer)
    {
        if (!_free.Writer.TryWrite(buffer))
            throw new InvalidOperationException("buffer returned twice");
    }
}

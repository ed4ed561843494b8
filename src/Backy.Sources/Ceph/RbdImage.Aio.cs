using System.Buffers;
using System.Runtime.InteropServices;

namespace Backy.Sources.Ceph;

public sealed partial class RbdImage
{
    /// <summary>
    /// Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/> straight into <paramref name="buffer"/>
    /// (<c>rbd_aio_read</c>: no thread waits; librbd completes it from its own threads); fewer only at the end.
    /// </summary>
    public async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer)
    {
        if (offset >= Size || buffer.Length == 0) return 0;
        var length = (int)Math.Min(buffer.Length, Size - offset);
        var read = await Submit($"reading {length} bytes at offset {offset}", buffer[..length], Aio.Read, offset, length).ConfigureAwait(false);
        return (int)read;
    }

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="offset"/> (<c>rbd_aio_write</c>; its completion reports 0 on
    /// success). On a zero-copy connection (<see cref="RbdConnection.Open"/>, the restore's) librbd sends from
    /// <paramref name="data"/>'s memory: the caller keeps it untouched until the task completed. Elsewhere librbd
    /// copies it at submit.
    /// </summary>
    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data) => Discard(
        Submit($"writing {data.Length} bytes at offset {offset}", MemoryMarshal.AsMemory(data), Aio.Write, offset, data.Length));

    /// <summary>Makes a range read as zeroes (<c>rbd_aio_write_zeroes</c>: whole objects are discarded).</summary>
    public ValueTask ZeroAsync(long offset, long length) => Discard(
        Submit($"zeroing {length} bytes at offset {offset}", Memory<byte>.Empty, Aio.Zero, offset, length));

    /// <summary>Waits until every write so far is durable in the cluster (<c>rbd_aio_flush</c>).</summary>
    public ValueTask FlushAsync() => Discard(
        Submit("flushing", Memory<byte>.Empty, Aio.Flush, 0, 0));

    private static async ValueTask Discard(ValueTask<long> task) => await task.ConfigureAwait(false);

    private enum Aio { Read, Write, Zero, Flush }

    private unsafe ValueTask<long> Submit(string what, Memory<byte> buffer, Aio kind, long offset, long length)
    {
        var image = Handle;
        var operation = new AioOperation(buffer.Pin());
        var arg = GCHandle.Alloc(operation);
        var rc = LibRbd.rbd_aio_create_completion(GCHandle.ToIntPtr(arg), &Completed, out var completion);
        if (rc >= 0)
        {
            var p = (byte*)operation.Pin.Pointer;
            rc = kind switch
            {
                Aio.Read => LibRbd.rbd_aio_read(Handle, (ulong)offset, (nuint)length, p, completion),
                Aio.Write => LibRbd.rbd_aio_write(Handle, (ulong)offset, (nuint)length, p, completion),
                Aio.Zero => LibRbd.rbd_aio_write_zeroes(Handle, (ulong)offset, (nuint)length, completion, 0, 0),
                _ => LibRbd.rbd_aio_flush(Handle, completion),
            };
            if (rc >= 0) return Await(operation, what);
            LibRbd.rbd_aio_release(completion);
        }
        // Not started: the callback never runs.
        arg.Free();
        operation.Pin.Dispose();
        return ValueTask.FromException<long>(new LibRbdException(what, Spec, -rc));
    }

    private async ValueTask<long> Await(AioOperation operation, string what)
    {
        var rc = await operation.Result.Task.ConfigureAwait(false);
        return LibRbdException.Check(rc, what, Spec);
    }

    /// <summary>Runs on a librbd thread when a request finishes: hands the result over, frees everything.</summary>
    [UnmanagedCallersOnly]
    private static unsafe void Completed(nint completion, nint arg)
    {
        var handle = GCHandle.FromIntPtr(arg);
        var operation = (AioOperation)handle.Target!;
        handle.Free();
        long rc = LibRbd.rbd_aio_get_return_value(completion);
        LibRbd.rbd_aio_release(completion);
        operation.Pin.Dispose();
        // Waking the pool from here may create a pool thread here: not with Ceph's all-blocked signal mask.
        CephThreadSignals.Unblocked(static s => s.Operation.Result.SetResult(s.Rc), (Operation: operation, Rc: rc));
    }

    /// <summary>One request in flight: the pinned buffer and who waits for it.</summary>
    private sealed class AioOperation(MemoryHandle pin)
    {
        public MemoryHandle Pin = pin;

        // Continuations run on the pool, never on librbd's completion thread (which must not block or hash 4 MiB).
        public readonly TaskCompletionSource<long> Result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

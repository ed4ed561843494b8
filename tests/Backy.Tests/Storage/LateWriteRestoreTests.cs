using System.IO.Hashing;
using Backy.Storage.Backup;
using Backy.Storage.Chunks;
using Backy.Storage.Restore;
using Backy.Tests.Storage.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backy.Tests.Storage;

/// <summary>
/// The restore engine against a target that sends from the engine's buffers and completes writes late, as librbd's
/// zero-copy writes do (RbdRestoreTarget): a buffer must stay untouched from WriteAsync until its task completed.
/// </summary>
public class LateWriteRestoreTests
{
    [Test, CancelAfter(60_000)]
    public async Task A_buffer_is_not_reused_before_its_write_completed(CancellationToken ct)
    {
        using var t = new TestJob();
        var path = t.PathIn("source.img");
        TestImages.WriteMixed(path, 40L * Blocks.Size + 999, seed: 3);
        var image = File.ReadAllBytes(path);
        var revision = await new BackupEngine(t.Job, NullLogger.Instance, TimeProvider.System, new BackupSettings(2))
            .BackupAsync(new MemorySource { Image = image }, ["daily"], ct);

        await using var target = new LateTarget(image.Length);
        await new RestoreEngine(t.Job, NullLogger.Instance, new BackupSettings(2)).RestoreToTargetAsync(revision, target, ct);

        Assert.That(target.Changed, Is.Empty, "blocks whose buffer changed while their write was pending");
        Assert.That(target.MostPending, Is.GreaterThan(1).And.LessThanOrEqualTo(LateTarget.InFlight), "writes were pending at once, within the target's concurrency");
        Assert.That(target.Content, Is.EqualTo(image));
    }

    /// <summary>Takes each write's bytes only when it completes, after a delay, and checks the buffer did not change meanwhile.</summary>
    private sealed class LateTarget(int size) : IRestoreTarget
    {
        public const int InFlight = 4;
        private readonly Random _random = new(7);
        private int _pending;
        public readonly byte[] Content = new byte[size];
        public readonly List<long> Changed = [];
        public int MostPending;

        public string Name => "late";
        public bool UnwrittenReadsAsZeroes => true;
        public int Concurrency => InFlight;
        public Task PrepareAsync(long size, CancellationToken cancellationToken) => Task.CompletedTask;

        public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            var atSubmit = XxHash128.HashToUInt128(data.Span);
            int delay;
            lock (Changed)
            {
                MostPending = Math.Max(MostPending, ++_pending);
                delay = _random.Next(1, 20);
            }
            await Task.Delay(delay, cancellationToken);
            lock (Changed)
            {
                _pending--;
                if (XxHash128.HashToUInt128(data.Span) != atSubmit) Changed.Add(offset);
                data.Span.CopyTo(Content.AsSpan((int)offset));
            }
        }

        public ValueTask WriteZeroesAsync(long offset, int length, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

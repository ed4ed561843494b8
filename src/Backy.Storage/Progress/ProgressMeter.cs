namespace Backy.Storage.Progress;

/// <summary>An engine's progress with the rate and the time left, as <see cref="ProgressMeter"/> estimates them.</summary>
/// <param name="BytesPerSecond">Bytes read per second over the meter's window (0 before the first second).</param>
/// <param name="Remaining">Time left at the window's rate of blocks; null while there is no rate yet.</param>
public sealed record ProgressEstimate(OperationProgress Progress, double BytesPerSecond, TimeSpan? Remaining);

/// <summary>
/// Rate and time left of one operation from its reports. The rate is measured over the last
/// <see cref="Window"/> (not since the start): a backup whose first half was all known chunks, or whose source
/// slowed down, gets an estimate from what it does now. Time left = blocks left / blocks per second in the
/// window. Samples are kept at most one per second, so memory is ~30 entries whatever the report rate.
/// Thread-safe; the clock is injected (tests use a fake one).
/// </summary>
public sealed class ProgressMeter
{
    /// <summary>Thirty seconds: long enough to smooth a burst of cached blocks, short enough to follow a change of pace.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Queue<Sample> _samples = new();
    private Sample _newest;

    private readonly record struct Sample(long Timestamp, long Blocks, long Bytes);

    public ProgressMeter(TimeProvider time)
    {
        _time = time;
        _newest = new Sample(time.GetTimestamp(), 0, 0);
        _samples.Enqueue(_newest);
    }

    public ProgressEstimate Update(OperationProgress progress)
    {
        var now = _time.GetTimestamp();
        lock (_samples)
        {
            var sample = new Sample(now, progress.BlocksDone, progress.BytesRead);
            if (_time.GetElapsedTime(_newest.Timestamp, now) >= SampleInterval)
            {
                _samples.Enqueue(sample);
                _newest = sample;
            }
            // Drop samples older than the window, but keep one at or beyond it as the window's start.
            while (_samples.Count > 1 && _time.GetElapsedTime(Second(), now) >= Window)
                _samples.Dequeue();
            var oldest = _samples.Peek();
            var seconds = _time.GetElapsedTime(oldest.Timestamp, now).TotalSeconds;
            if (seconds < SampleInterval.TotalSeconds)
                return new ProgressEstimate(progress, 0, Done(progress));
            var bytesPerSecond = Math.Max(0, (progress.BytesRead - oldest.Bytes) / seconds);
            var blocksPerSecond = (progress.BlocksDone - oldest.Blocks) / seconds;
            var left = Math.Max(0, progress.BlocksTotal - progress.BlocksDone);
            TimeSpan? remaining = left == 0 ? TimeSpan.Zero
                : blocksPerSecond > 0 ? TimeSpan.FromSeconds(Math.Min(left / blocksPerSecond, TimeSpan.MaxValue.TotalSeconds / 2))
                : null;
            return new ProgressEstimate(progress, bytesPerSecond, remaining);
        }
    }

    private long Second() => _samples.ElementAt(1).Timestamp;

    private static TimeSpan? Done(OperationProgress p) => p.BlocksDone >= p.BlocksTotal ? TimeSpan.Zero : null;
}

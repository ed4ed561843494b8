using Backy.Storage.Progress;

namespace Backy.Worker.Progress;

/// <summary>
/// The daemon's view of a worker's progress: at most one <see cref="ProgressLine"/> a second on stderr, the pipe
/// the daemon's launcher reads (Backy.Daemon README, "Progress"). Reports arrive from the engine's worker threads.
/// </summary>
internal sealed class ProgressLineWriter(TextWriter stderr, TimeProvider time) : IProgress<OperationProgress>
{
    /// <summary>Once a second: the daemon shows it to a person, and a line per block would be a lot of pipe traffic.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly ProgressMeter _meter = new(time);
    private readonly object _gate = new();
    private long _lastWrite = time.GetTimestamp();
    private bool _first = true;

    public void Report(OperationProgress value)
    {
        var estimate = _meter.Update(value);
        lock (_gate)
        {
            var now = time.GetTimestamp();
            // The first report goes out at once (the daemon learns the total), later ones once per interval.
            if (!_first && time.GetElapsedTime(_lastWrite, now) < Interval) return;
            _first = false;
            _lastWrite = now;
            try { stderr.WriteLine(ProgressLine.Format(estimate)); }
            catch (Exception e) when (e is IOException or ObjectDisposedException) { } // a parent that went away fails nothing
        }
    }
}

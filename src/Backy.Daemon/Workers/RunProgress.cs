using Backy.Storage.Progress;

namespace Backy.Daemon.Workers;

/// <summary>
/// The progress of a job's running worker as its last <see cref="ProgressLine"/> said, held in the daemon's memory
/// only. <see cref="WorkerLauncher"/> sets it from the worker's stderr and clears it when that process ends, however
/// it ends (exit, crash, SIGKILL): progress exists exactly while a worker that reported it runs, so a killed worker
/// can leave nothing stale behind. Thread-safe (set from the pipe reader, read by the API).
/// </summary>
public sealed class RunProgress
{
    private ProgressEstimate? _current;

    public ProgressEstimate? Current => Volatile.Read(ref _current);

    public void Report(ProgressEstimate estimate) => Volatile.Write(ref _current, estimate);

    public void Clear() => Volatile.Write(ref _current, null);
}

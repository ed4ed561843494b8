using Backy.Daemon.Config;
using Backy.Daemon.Views;
using Backy.Daemon.Workers;
using Backy.Storage;
using Backy.Storage.Editing;
using Backy.Storage.Logging;
using Backy.Storage.Revisions;
using Backy.Storage.Schedules;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Scheduling;

/// <summary>
/// One job, forever (DESIGN 7): plan the next run from the schedule and the job's view
/// (<see cref="Views.JobViewCache"/>: the loop keeps no copy of the revisions), wait for the deadline
/// (or <see cref="RunNow"/>), wait for one of the worker-limit slots (<see cref="WorkerSlots"/>: fast
/// jobs first), run backup/expire/purge/callback, repeat. A failure backs off 2, 4, 8 ... minutes (at
/// most 6 h) and retries the same tags; a success resets. Stopping cancels the wait or the run (the
/// worker gets SIGTERM). Nothing else ends the loop: every exception of an iteration, its own failure
/// handling included, is a failure of this job.
/// </summary>
public sealed partial class JobLoop
{
    private readonly JobLoopServices _services;
    private readonly Func<JobEnvironment> _environment;
    private readonly SemaphoreSlim _runNow = new(0, 1);
    // The running worker's progress; only the launcher sets it, and clears it when that worker ends.
    private readonly RunProgress _progress = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private Task _task = Task.CompletedTask;

    // State behind _gate; read by Snapshot from other threads.
    private string _status = JobStatus.WaitingForDeadline;
    private PlannedRun? _next;
    private int _failures;
    private DateTimeOffset _lastFailure;
    private IReadOnlySet<string>? _retryTags;
    private string? _lastError;
    private string? _taskId;

    public JobLoop(JobDefinition definition, string jobDir, Func<JobEnvironment> environment, JobLoopServices services)
    {
        Definition = definition;
        JobDir = jobDir;
        _environment = environment;
        _services = services;
    }

    public JobDefinition Definition { get; }
    public string JobDir { get; }
    private string Name => Definition.Name;
    private DateTimeOffset Now => _services.Clock.GetUtcNow();

    /// <summary>Writes the job's config and plans the first run (before READY: a job whose
    /// directory cannot be written is logged and retried with backoff, it does not stop the daemon).</summary>
    public void Prepare()
    {
        try
        {
            Plan();
        }
        catch (Exception e)
        {
            // Whatever it is, this job backs off; the daemon and the other jobs start.
            try { Failed(e); }
            catch (Exception inner) { LastResort(e, inner); }
        }
    }

    public void Start()
    {
        // A loop (re)started by a reload over the API would otherwise run for ever inside that
        // call's logging scope: every line of the job would carry the reload's task id too.
        using (ExecutionContext.SuppressFlow())
            _task = Task.Run(() => RunForeverAsync(_stop.Token));
    }

    /// <summary>Stops the loop; a running worker gets SIGTERM and, after the grace period, is killed.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try { await _task.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
    }

    public void RunNow()
    {
        try { _runNow.Release(); }
        catch (SemaphoreFullException) { } // already requested
    }

    /// <summary>The loop's state with the job directory as it is now (<see cref="JobView"/>): a revision made
    /// by a manual backup, or by a run that failed after its backup, shows at once in every field.</summary>
    public JobSnapshot Snapshot(DateTimeOffset now)
    {
        var (view, error) = ReadView();
        var last = view.LastComplete;
        lock (_gate)
        {
            var running = JobStatus.IsRunning(_status);
            var sla = running ? SlaStatus.Ok : Sla.Evaluate(Definition.Schedule, view.History, now);
            return new JobSnapshot(
                Name, Definition.ScheduleName, _status,
                SlaOk: !sla.IsOverdue, SlaOverdue: sla.Overdue,
                LastTime: last?.Timestamp, LastTags: last is null ? [] : SortedTags(last.Tags), LastDuration: view.LastDuration,
                NextTime: running ? null : _next?.Time, NextTags: running || _next is null ? [] : SortedTags(_next.Tags),
                FailureCount: _failures, LastError: _lastError, TaskId: _taskId, View: view, ViewError: error,
                Progress: running ? _progress.Current : null);
        }
    }

    /// <summary>The job directory's view for a snapshot; one that cannot be read is reported, not thrown:
    /// the status of every other job (and monitoring) must not depend on it.</summary>
    private (JobView View, string? Error) ReadView()
    {
        try
        {
            return (_services.Views.Get(JobDir), null);
        }
        catch (Exception e) when (e is BackyException or IOException or UnauthorizedAccessException)
        {
            return (JobView.Empty, e.Message);
        }
    }

    private async Task RunForeverAsync(CancellationToken cancellationToken)
    {
        var planned = _next;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (RetryAt() is { } retryAt)
                    await WaitForDeadlineAsync(retryAt, cancellationToken).ConfigureAwait(false);
                var plan = planned ?? Plan();
                planned = null;
                await WaitForDeadlineAsync(plan.Time, cancellationToken).ConfigureAwait(false);
                var environment = _environment();
                var speed = SpeedClass.Of(ReadView().View.LastDuration);
                SetStatus(JobStatus.WaitingForSlot(speed));
                using (await environment.Slots.AcquireAsync(speed, cancellationToken).ConfigureAwait(false))
                {
                    var taskId = TaskIds.New();
                    lock (_gate)
                    {
                        _status = JobStatus.Running(speed);
                        _taskId = taskId;
                    }
                    using var scope = _services.Logger.BeginScope(new Dictionary<string, object> { ["Job"] = Name, ["TaskId"] = taskId });
                    var started = _services.Clock.GetTimestamp();
                    await _services.Run.ExecuteAsync(Name, JobDir, plan.Tags, taskId, environment.Global.BackupCompletedCallback, environment.Peers, _progress, cancellationToken)
                        .ConfigureAwait(false);
                    Succeeded(_services.Clock.GetElapsedTime(started));
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The per-job boundary (STYLE): whatever went wrong, this job backs off, the daemon goes on.
                // Its own error handling is inside the boundary too: a loop task that ends is a job that
                // never runs again while `client jobs` keeps showing it (a full log disk did exactly that).
                try
                {
                    // A worker killed by a signal sent to the whole process group (Ctrl-C, systemd
                    // without KillMode=mixed) just before our own stop: a stop, not a failure.
                    if (e is ExternalCommandException { ExitCode: > 128 } && await IsStoppingAsync(cancellationToken).ConfigureAwait(false))
                        break;
                    Failed(e);
                }
                catch (Exception inner)
                {
                    LastResort(e, inner);
                }
            }
        }
    }

    /// <summary>Whether the loop is stopped within a moment (signals reach the daemon's host a
    /// little after they reach a child in the same process group).</summary>
    private static async Task<bool> IsStoppingAsync(CancellationToken cancellationToken)
    {
        try { await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) { return true; }
        return false;
    }

    /// <summary>Writes the config file, reads the revisions and decides the next run.</summary>
    private PlannedRun Plan()
    {
        JobConfigFile.WriteIfChanged(JobDir, Definition);
        var history = _services.Views.Get(JobDir).History;
        var now = Now;
        var next = Definition.Schedule.Next(now, JobSpread.For(Name, Definition.Schedule), history);
        var scheduled = new PlannedRun(next.Time, next.Tags);
        lock (_gate)
        {
            // After a failure the backoff wait is over when we get here: retry now, same tags.
            _next = _failures > 0 ? new PlannedRun(now, _retryTags ?? scheduled.Tags) : scheduled;
            _status = _failures > 0 ? JobStatus.Failed : JobStatus.WaitingForDeadline;
            return _next;
        }
    }

    private DateTimeOffset? RetryAt()
    {
        lock (_gate)
            return _failures > 0 ? _lastFailure + Backoff.After(_failures) : null;
    }

    private async Task WaitForDeadlineAsync(DateTimeOffset when, CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var deadline = _services.Deadlines.WaitUntilAsync(Name, when, either.Token);
        var runNow = _runNow.WaitAsync(either.Token);
        var first = await Task.WhenAny(deadline, runNow).ConfigureAwait(false);
        await either.CancelAsync().ConfigureAwait(false);
        try { await Task.WhenAll(deadline, runNow).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        cancellationToken.ThrowIfCancellationRequested();
        if (first == runNow)
            LogRunNow(_services.Logger, Name);
        await first.ConfigureAwait(false);
    }

    private void SetStatus(string status)
    {
        lock (_gate)
            _status = status;
    }

    private void Succeeded(TimeSpan took)
    {
        lock (_gate)
        {
            _failures = 0;
            _retryTags = null;
            _lastError = null;
            _status = JobStatus.Finished;
        }
        Metrics.DaemonMeter.OnBackupFinished(success: true);
        LogSucceeded(_services.Logger, Name, took.TotalSeconds);
    }

    private void Failed(Exception e)
    {
        Metrics.DaemonMeter.OnBackupFinished(success: false);
        int failures;
        lock (_gate)
        {
            failures = ++_failures;
            _lastFailure = Now;
            _retryTags = _next?.Tags;
            _lastError = e.Message;
            _status = JobStatus.Failed;
            if (_next is not null)
                _next = new PlannedRun(_lastFailure + Backoff.After(failures), _next.Tags);
        }
        // A worker's failure (ExternalCommandException) or another BackyException names the thing and the
        // reason in its message; its stack trace is the daemon's process plumbing and would put a whole
        // trace on the journal's one line. Unexpected exceptions keep theirs.
        LogFailed(_services.Logger, e is BackyException ? null : e, Name, failures, Backoff.After(failures).TotalMinutes, e.Message);
    }

    /// <summary>The failure handling itself failed (<see cref="Failed"/> counts the failure before it logs,
    /// so the backoff still applies): try once more to say why. Nothing here may throw.</summary>
    private void LastResort(Exception failure, Exception inner)
    {
        try { LogFailureHandlingFailed(_services.Logger, Name, failure.Message, inner.Message); }
        catch (Exception) { /* no logger left to tell: the status and last error still say it */ }
    }

    private IReadOnlyList<string> SortedTags(IEnumerable<string> tags) => Definition.Schedule.SortTags(tags);

    [LoggerMessage(EventId = 4400, Level = LogLevel.Information, Message = "{Job}: run requested")]
    private static partial void LogRunNow(ILogger logger, string job);

    [LoggerMessage(EventId = 4401, Level = LogLevel.Information, Message = "{Job}: finished in {Seconds:0.0} s")]
    private static partial void LogSucceeded(ILogger logger, string job, double seconds);

    [LoggerMessage(EventId = 4403, Level = LogLevel.Error, Message = "{Job}: failed ({Reason}), and handling that failed too: {Inner}")]
    private static partial void LogFailureHandlingFailed(ILogger logger, string job, string reason, string inner);

    [LoggerMessage(EventId = 4402, Level = LogLevel.Error, Message = "{Job}: failed (failure {Failures}, retry in {Minutes} min): {Reason}")]
    private static partial void LogFailed(ILogger logger, Exception? exception, string job, int failures, double minutes, string reason);
}

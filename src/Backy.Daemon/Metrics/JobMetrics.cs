using System.Diagnostics.Metrics;
using Backy.Daemon.Scheduling;
using Backy.Storage.Copies;

namespace Backy.Daemon.Metrics;

/// <summary>
/// The per-job and worker gauges, observed when Prometheus scrapes. One scrape reads the daemon's job snapshots
/// once; each carries its job's view from the daemon's one mtime-keyed cache (<see cref="Views.JobViewCache"/>),
/// the same the planner and the API read, so a scrape of 1000 unchanged jobs costs a few thousand stat calls, no parse.
/// </summary>
public sealed class JobMetrics : IDisposable
{
    /// <summary>All gauges of one scrape are observed within this window from one reading.</summary>
    static readonly TimeSpan ReadingLifetime = TimeSpan.FromSeconds(1);

    readonly IJobScheduler _daemon;
    readonly Views.StoredBytesCache _stored;
    readonly TimeProvider _time;
    readonly Lock _lock = new();
    Reading? _reading;

    /// <summary>This daemon's gauges: a meter of their own (not <see cref="DaemonMeter.Meter"/>), so that two daemon
    /// hosts in one process (tests) never observe each other's jobs.</summary>
    public Meter Meter { get; } = new(DaemonMeter.Name, ThisAssembly.Version);

    internal JobMetrics(IJobScheduler daemon, Views.StoredBytesCache stored, TimeProvider time)
    {
        _daemon = daemon;
        _stored = stored;
        _time = time;
        PerJob("job_last_success_timestamp_seconds", "End of the newest complete revision (Unix time).",
            j => j.Snapshot.LastTime is { } t ? (t + (j.Snapshot.LastDuration ?? TimeSpan.Zero)).ToUnixTimeMilliseconds() / 1000.0 : null);
        PerJob("job_last_duration_seconds", "Duration of the newest complete revision's backup.",
            j => j.Snapshot.LastDuration?.TotalSeconds);
        PerJob("job_last_bytes_written", "Bytes of new chunks the newest complete local revision wrote.",
            j => j.Snapshot.View.Revisions.LastOrDefault(r => r.IsComplete && r.IsLocal)?.BytesWritten);
        PerJob("job_sla_overdue_seconds", "How far past its SLA (1.5 x the shortest interval) the job is; 0 when within.",
            j => j.Snapshot.SlaOverdue.TotalSeconds);
        PerJob("job_running", "1 while a worker runs for the job.",
            j => JobStatus.IsRunning(j.Snapshot.Status) ? 1 : 0);
        PerJob("job_consecutive_failures", "Failed runs since the last success.", j => j.Snapshot.FailureCount);
        PerJob("job_quarantine_reports", "Blocks that did not match the source right after a backup (quarantine).",
            j => j.Snapshot.View.QuarantineReports);
        PerJob("job_stored_bytes", "Bytes of chunk files on disk (refreshed when the job directory changes, at least every 15 min).",
            j => j.StoredBytes);
        Meter.CreateObservableGauge("job_revisions", () => Read().Jobs.SelectMany(j =>
            RevisionsByServer(j.Snapshot.View).Select(kv => new Measurement<double>(kv.Value,
                new KeyValuePair<string, object?>("job", j.Snapshot.Name), new KeyValuePair<string, object?>("server", kv.Key)))),
            description: "Complete revisions by server (\"\" = this server).");
        Meter.CreateObservableGauge("job_copy_lag_seconds", () => Read().Jobs.SelectMany(j => j.CopyLags.Select(c =>
            new Measurement<double>(c.Lag.TotalSeconds, new KeyValuePair<string, object?>("job", j.Snapshot.Name),
                new KeyValuePair<string, object?>("copy", c.Copy)))),
            description: "Age of the oldest complete local revision the off-site copy lacks; 0 when it has them all.");
        Daemon("workers_busy", "Workers running now.", r => [new(r.Jobs.Count(j => JobStatus.IsRunning(j.Snapshot.Status)))]);
        Daemon("workers_limit", "worker-limit: the most workers that run at once.", r => [new(r.WorkerLimit)]);
        Daemon("jobs_waiting", "Jobs waiting, by reason (deadline, worker slot).", r =>
        [
            new(r.Jobs.Count(j => j.Snapshot.Status == JobStatus.WaitingForDeadline), new KeyValuePair<string, object?>("reason", "deadline")),
            new(r.Jobs.Count(j => j.Snapshot.Status.StartsWith("waiting for worker slot", StringComparison.Ordinal)),
                new KeyValuePair<string, object?>("reason", "worker slot")),
        ]);
        Daemon("build_info", "1, with the daemon's version as a label.",
            _ => [new(1, new KeyValuePair<string, object?>("version", ThisAssembly.Version))]);
    }

    void PerJob(string name, string description, Func<JobReading, double?> value) =>
        Meter.CreateObservableGauge(name, () => Read().Jobs
            .Select(j => (j.Snapshot.Name, Value: value(j)))
            .Where(x => x.Value is not null)
            .Select(x => new Measurement<double>(x.Value!.Value, new KeyValuePair<string, object?>("job", x.Name))),
            description: description);

    void Daemon(string name, string description, Func<Reading, Measurement<double>[]> values) =>
        Meter.CreateObservableGauge(name, () => values(Read()), description: description);

    /// <summary>One reading of every job, shared by all gauges of a scrape.</summary>
    internal Reading Read()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (_reading is { } r && now - r.Taken < ReadingLifetime) return r;
            var config = _daemon.Config;
            var baseDir = config.Global.BaseDir;
            var jobs = _daemon.Jobs().Select(s =>
            {
                var dir = Path.Join(baseDir, s.Name);
                return new JobReading(s, _stored.Of(dir), CopyLags(config.Jobs.GetValueOrDefault(s.Name), dir, s.View, now));
            }).ToList();
            return _reading = new Reading(now, jobs, _daemon.Config.Global.WorkerLimit);
        }
    }

    /// <summary>Each copy target's lag, from its small local status file (copies/NAME.status) and the job's view.</summary>
    static IReadOnlyList<(string Copy, TimeSpan Lag)> CopyLags(Config.JobDefinition? job, string dir, Views.JobView view, DateTimeOffset now) =>
        job is null || job.Copies.Targets.Count == 0 ? []
            : job.Copies.Targets.Select(t => (t.Name, CopyStatusFile.Lag(view.Revisions, CopyStatusFile.TryRead(dir, t.Name), now))).ToList();

    /// <summary>Complete revisions by the server that holds their data; "" (this server) always present.</summary>
    static Dictionary<string, int> RevisionsByServer(Views.JobView view)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal) { [""] = 0 };
        foreach (var r in view.Revisions.Where(r => r.IsComplete))
            counts[r.Server] = counts.GetValueOrDefault(r.Server) + 1;
        return counts;
    }

    public void Dispose() => Meter.Dispose();

    internal sealed record JobReading(JobSnapshot Snapshot, double? StoredBytes, IReadOnlyList<(string Copy, TimeSpan Lag)> CopyLags);

    internal sealed record Reading(DateTimeOffset Taken, IReadOnlyList<JobReading> Jobs, int WorkerLimit);
}

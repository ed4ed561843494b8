using Backy.Daemon.Config;
using Backy.Daemon.Views;
using Backy.Daemon.Workers;
using Backy.Storage;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Scheduling;

/// <summary>
/// The set of job loops for the configuration in force, and the <see cref="IJobScheduler"/> the
/// API uses. A reload diffs old and new jobs: unchanged loops keep running untouched (also their
/// running backups), changed ones restart, removed ones stop, added ones start.
/// </summary>
public sealed partial class JobRegistry : IJobScheduler
{
    private readonly JobLoopServices _services;
    private readonly ILogger<JobRegistry> _logger;
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private readonly Lock _gate = new();
    private Dictionary<string, JobLoop> _loops = new(StringComparer.Ordinal);
    private JobEnvironment _environment;
    private DaemonConfig _config;
    private bool _started;
    private readonly TaskCompletionSource _firstStart = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public JobRegistry(DaemonConfig config, Deadlines deadlines, JobRun run, TimeProvider clock, JobViewCache views, ILogger<JobRegistry> logger)
    {
        _config = config;
        _logger = logger;
        _services = new JobLoopServices(deadlines, run, clock, logger, views);
        _environment = new JobEnvironment(config.Global, new WorkerSlots(config.Global.WorkerLimit, clock), config.Peers);
    }

    public DaemonConfig Config
    {
        get { lock (_gate) return _config; }
    }

    public event Action<DaemonConfig>? ConfigChanged;

    public string BaseDir => Config.Global.BaseDir;

    public Task Started => _firstStart.Task;

    /// <summary>Starts Quartz and plans every job's first run; returns once all are scheduled.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StartLoopsAsync(cancellationToken).ConfigureAwait(false);
            _firstStart.TrySetResult();
        }
        catch (Exception e)
        {
            _firstStart.TrySetException(e);
            throw;
        }
    }

    private async Task StartLoopsAsync(CancellationToken cancellationToken)
    {
        await _services.Deadlines.StartAsync(cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(BaseDir);
        var loops = _config.Jobs.Values.Select(NewLoop).ToDictionary(l => l.Definition.Name, StringComparer.Ordinal);
        foreach (var loop in loops.Values)
            loop.Prepare();
        lock (_gate)
        {
            _loops = loops;
            _started = true;
        }
        foreach (var loop in loops.Values)
            loop.Start();
        LogStarted(_logger, loops.Count, BaseDir, _config.Global.WorkerLimit);
    }

    /// <summary>Stops every loop at once (workers get SIGTERM in parallel), then Quartz.</summary>
    public async Task StopAsync()
    {
        JobLoop[] loops;
        lock (_gate)
        {
            loops = [.. _loops.Values];
            _started = false;
        }
        await Task.WhenAll(loops.Select(l => l.StopAsync())).ConfigureAwait(false);
        await _services.Deadlines.StopAsync().ConfigureAwait(false);
    }

    public IReadOnlyList<JobSnapshot> Jobs()
    {
        JobLoop[] loops;
        lock (_gate)
            loops = [.. _loops.Values];
        var now = _services.Clock.GetUtcNow();
        return loops.Select(l => l.Snapshot(now)).OrderBy(s => s.Name, StringComparer.Ordinal).ToArray();
    }

    public bool RunNow(string job)
    {
        JobLoop? loop;
        lock (_gate)
            _loops.TryGetValue(job, out loop);
        loop?.RunNow();
        return loop is not null;
    }

    public async Task<DaemonConfig> ReloadAsync(CancellationToken cancellationToken)
    {
        var path = Config.SourcePath;
        DaemonConfig next;
        try
        {
            next = DaemonConfigReader.Load(path);
        }
        catch (ConfigException e)
        {
            LogReloadRejected(_logger, path, e.Message);
            throw;
        }
        await ApplyAsync(next, cancellationToken).ConfigureAwait(false);
        return next;
    }

    /// <summary>Puts <paramref name="next"/> in force (see the class comment).</summary>
    public async Task ApplyAsync(DaemonConfig next, CancellationToken cancellationToken)
    {
        if (next.Global.BaseDir != Config.Global.BaseDir)
        {
            var e = new ConfigException($"global.base-dir: cannot change from '{Config.Global.BaseDir}' to '{next.Global.BaseDir}' on reload (the base directory lock is held); restart the daemon");
            LogReloadRejected(_logger, next.SourcePath, e.Message);
            throw e;
        }
        await _reloading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Dictionary<string, JobLoop> old;
            lock (_gate)
            {
                old = _loops;
                _config = next;
                // One set of slots for the daemon's life: the runs in progress count against a new limit too.
                _environment.Slots.Limit = next.Global.WorkerLimit;
                _environment = new JobEnvironment(next.Global, _environment.Slots, next.Peers);
            }
            var keep = old.Values.Where(l => next.Jobs.TryGetValue(l.Definition.Name, out var d) && SameJob(d, l.Definition)).ToArray();
            var stop = old.Values.Except(keep).ToArray();
            var start = next.Jobs.Values.Where(d => !keep.Any(l => l.Definition.Name == d.Name)).Select(NewLoop).ToArray();

            await Task.WhenAll(stop.Select(l => l.StopAsync())).ConfigureAwait(false);
            foreach (var loop in stop.Where(l => !next.Jobs.ContainsKey(l.Definition.Name)))
                _services.Views.Forget(loop.JobDir);
            foreach (var loop in start)
                loop.Prepare();
            var loops = keep.Concat(start).ToDictionary(l => l.Definition.Name, StringComparer.Ordinal);
            lock (_gate)
                _loops = loops;
            if (_started)
                foreach (var loop in start)
                    loop.Start();
            var added = start.Count(l => !old.ContainsKey(l.Definition.Name));
            LogReloaded(_logger, next.SourcePath, added, start.Length - added, stop.Count(l => !next.Jobs.ContainsKey(l.Definition.Name)), keep.Length);
        }
        finally
        {
            _reloading.Release();
        }
        ConfigChanged?.Invoke(next);
    }

    /// <summary>Schedule is compared by content (it is a class), the source and copy targets by their values.</summary>
    private static bool SameJob(JobDefinition a, JobDefinition b) =>
        a.ScheduleName == b.ScheduleName && a.Source == b.Source && a.Copies == b.Copies
        && a.Schedule.Intervals.SequenceEqual(b.Schedule.Intervals);

    private JobLoop NewLoop(JobDefinition definition)
    {
        JobEnvironment Environment()
        {
            lock (_gate)
                return _environment;
        }
        return new JobLoop(definition, Path.Combine(BaseDir, definition.Name), Environment, _services);
    }

    [LoggerMessage(EventId = 4500, Level = LogLevel.Information, Message = "scheduling {Jobs} jobs in {BaseDir} with worker-limit {Limit}")]
    private static partial void LogStarted(ILogger logger, int jobs, string baseDir, int limit);

    [LoggerMessage(EventId = 4501, Level = LogLevel.Information, Message = "reloaded {Path}: {Added} added, {Changed} changed, {Removed} removed, {Kept} unchanged")]
    private static partial void LogReloaded(ILogger logger, string path, int added, int changed, int removed, int kept);

    [LoggerMessage(EventId = 4502, Level = LogLevel.Error, Message = "reload of {Path} rejected, the running configuration stays: {Errors}")]
    private static partial void LogReloadRejected(ILogger logger, string path, string errors);
}

using Backy.Daemon.Scheduling;
using Backy.Daemon.Api;
using Backy.Daemon.Config;
using Backy.Daemon.Views;

namespace Backy.Tests.Api;

/// <summary>
/// The daemon as the API sees it, for testing the API on its own: the configuration is a real
/// file read by the real reader (reload re-reads it); job states are what the test sets, each with the
/// real view of its job directory (as the real scheduler gives it).
/// </summary>
internal sealed class StubDaemon(string configPath) : IJobScheduler
{
    private readonly Dictionary<string, JobSnapshot> _states = new(StringComparer.Ordinal);

    public DaemonConfig Config { get; private set; } = DaemonConfigReader.Load(configPath);

    public event Action<DaemonConfig>? ConfigChanged;

    /// <summary>The stand-in is started when the test built it; a test may hold calls back with <see cref="Starting"/>.</summary>
    public Task Started => Starting?.Task ?? Task.CompletedTask;

    public TaskCompletionSource? Starting { get; set; }

    public List<string> Runs { get; } = [];

    public void SetState(JobSnapshot snapshot) => _states[snapshot.Name] = snapshot;

    private readonly JobViewCache _views = new(TimeProvider.System);

    /// <summary>Like the real registry, no job is registered before the start completed.</summary>
    public IReadOnlyList<JobSnapshot> Jobs() => !Started.IsCompletedSuccessfully ? [] :
        Config.Jobs.Values.Select(j => WithView(_states.GetValueOrDefault(j.Name) ?? Waiting(j.Name, j.ScheduleName))).ToList();

    private JobSnapshot WithView(JobSnapshot job)
    {
        try
        {
            return job with { View = _views.Get(Path.Join(Config.Global.BaseDir, job.Name)) };
        }
        catch (Exception e) when (e is Backy.Storage.BackyException or IOException or UnauthorizedAccessException)
        {
            return job with { View = JobView.Empty, ViewError = e.Message };
        }
    }

    public bool RunNow(string job)
    {
        if (!Config.Jobs.ContainsKey(job))
            return false;
        lock (Runs)
            Runs.Add(job);
        return true;
    }

    public Task<DaemonConfig> ReloadAsync(CancellationToken cancellationToken)
    {
        Config = DaemonConfigReader.Load(configPath);
        ConfigChanged?.Invoke(Config);
        return Task.FromResult(Config);
    }

    public static JobSnapshot Waiting(string name, string schedule = "default") =>
        Snapshot(name, schedule, "waiting for deadline", true, TimeSpan.Zero, null, [], null,
            new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), ["daily"]);

    public static JobSnapshot Snapshot(string name, string schedule, string status, bool slaOk, TimeSpan overdue,
        DateTimeOffset? last, string[] lastTags, TimeSpan? lastDuration, DateTimeOffset? next, string[] nextTags) =>
        new(name, schedule, status, slaOk, overdue, last, lastTags, lastDuration, next, nextTags, 0, null, null, JobView.Empty);
}

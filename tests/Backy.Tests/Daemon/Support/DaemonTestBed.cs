namespace Backy.Tests.Daemon.Support;

/// <summary>A temp directory with a base-dir, a stand-in worker, a config file and a log file,
/// and helpers to start the real daemon on them.</summary>
public sealed class DaemonTestBed : IAsyncDisposable
{
    private readonly List<DaemonProcess> _daemons = [];

    public string Root { get; } = Directory.CreateTempSubdirectory("backy-daemon-test-").FullName;
    public string BaseDir => Path.Combine(Root, "base");
    public string ConfigPath => Path.Combine(Root, "backy.conf");
    /// <summary>The daemon's log file (-l); a test may move it (onto a small file system).</summary>
    public string LogPath { get; set; }
    public StandInWorker Worker { get; }

    public DaemonTestBed()
    {
        Worker = new StandInWorker(Root);
        LogPath = Path.Combine(Root, "backy.log");
    }

    public string JobDir(string job) => Path.Combine(BaseDir, job);

    /// <summary>A config with schedule <c>fast</c> (tag <c>often</c> every <paramref name="interval"/>)
    /// and a file-source job per name.</summary>
    public void WriteConfig(string interval, int workerLimit, params string[] jobs) =>
        WriteConfigWithCallback(interval, workerLimit, null, jobs);

    /// <summary>Like <see cref="WriteConfig(string, int, string[])"/>; a job named "x:daily" uses the daily schedule.</summary>
    public void WriteConfigWithCallback(string interval, int workerLimit, string? callback, params string[] jobs)
    {
        var jobLines = string.Concat(jobs.Select(j => j.Split(':') is [var name, var schedule]
            ? $"  {name}: {{schedule: {schedule}, source: {{type: file, filename: {Root}/{name}.img}}}}\n"
            : $"  {j}: {{schedule: fast, source: {{type: file, filename: {Root}/{j}.img}}}}\n"));
        var callbackLine = callback is null ? "" : $", backup-completed-callback: {callback}";
        File.WriteAllText(ConfigPath, $"""
            global: {"{"}base-dir: {BaseDir}, worker-limit: {workerLimit}{callbackLine}{"}"}
            {ApiLine}
            schedules:
              fast: {"{"}often: {"{"}interval: {interval}, keep: 3{"}"}{"}"}
              daily: {"{"}daily: {"{"}interval: 1d, keep: 3{"}"}{"}"}
            jobs:
            {jobLines}
            """);
    }

    /// <summary>Any free loopback port: an API address in use is fatal at start, and the default 6023 is
    /// shared by every daemon that tests (and other test runs on the machine) start.</summary>
    public const string ApiLine = "api: {addrs: 127.0.0.1, port: 0}";

    /// <summary>Creates a marker file (fail, sleep, ignore-term) in a job directory.</summary>
    public void Mark(string job, string marker, string content = "")
    {
        Directory.CreateDirectory(JobDir(job));
        File.WriteAllText(Path.Combine(JobDir(job), marker), content);
    }

    public DaemonProcess StartDaemon(NotifySocket? notify = null, double graceSeconds = 10) =>
        StartDaemon(EntryPoint.Daemon, notify, graceSeconds);

    /// <param name="entry">backy-daemon, or `backy scheduler` (both must behave the same).</param>
    public DaemonProcess StartDaemon(EntryPoint entry, NotifySocket? notify = null, double graceSeconds = 10)
    {
        Func<string, string, IReadOnlyDictionary<string, string?>, DaemonProcess> start =
            entry == EntryPoint.Daemon ? DaemonProcess.Start : DaemonProcess.StartScheduler;
        var daemon = start(ConfigPath, LogPath, new Dictionary<string, string?>
        {
            ["BACKY_WORKER"] = Worker.Path,
            ["BACKY_WORKER_GRACE"] = graceSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["NOTIFY_SOCKET"] = notify?.Path,
        });
        _daemons.Add(daemon);
        return daemon;
    }

    public string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "";

    /// <summary>Polls until <paramref name="condition"/> holds (tests have a CancelAfter timeout).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
            await Task.Delay(100, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var d in _daemons)
            await d.DisposeAsync();
        // No test may leave a worker behind, even a failing one.
        foreach (var pid in Worker.Records().Select(r => r.Pid).Distinct())
            if (Posix.IsAlive(pid))
                Posix.Signal(pid, Posix.SigKill);
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>The two ways the manual starts the scheduler.</summary>
public enum EntryPoint
{
    /// <summary><c>backy-daemon -c CONFIG -l LOG</c></summary>
    Daemon,

    /// <summary><c>backy -l LOG scheduler -c CONFIG</c></summary>
    Scheduler,
}

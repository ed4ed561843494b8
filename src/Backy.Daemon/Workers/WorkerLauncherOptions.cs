namespace Backy.Daemon.Workers;

/// <summary>Where <c>backy-worker</c> is and how long it gets to stop after SIGTERM.</summary>
public sealed record WorkerLauncherOptions(string WorkerPath, TimeSpan GracePeriod)
{
    public const string WorkerVariable = "BACKY_WORKER";
    public const string GraceVariable = "BACKY_WORKER_GRACE";

    /// <summary>Long enough for a worker to finish writing and fsyncing the chunk in flight and
    /// remove its incomplete revision; short enough to stay inside systemd's 90 s stop timeout.</summary>
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromSeconds(30);

    /// <summary><c>BACKY_WORKER</c>, else <c>backy-worker</c> beside the daemon's own executable
    /// (both are installed together); <c>BACKY_WORKER_GRACE</c> (seconds) overrides the grace period.</summary>
    public static WorkerLauncherOptions FromEnvironment()
    {
        var path = Environment.GetEnvironmentVariable(WorkerVariable);
        if (string.IsNullOrEmpty(path))
            path = Path.Combine(AppContext.BaseDirectory, "backy-worker");
        var grace = DefaultGracePeriod;
        if (double.TryParse(Environment.GetEnvironmentVariable(GraceVariable), System.Globalization.CultureInfo.InvariantCulture, out var s) && s >= 0)
            grace = TimeSpan.FromSeconds(s);
        return new WorkerLauncherOptions(path, grace);
    }
}

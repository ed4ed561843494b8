namespace Backy.Daemon.Metrics;

/// <summary>
/// Names and events shared by the daemon's metrics. The exporter (prometheus-net's <c>MeterAdapter</c>) names each
/// metric <c>{meter}_{instrument}</c>, so the gauges' meter is <see cref="Name"/> and their instruments are named as
/// Prometheus wants the rest (snake case, base units in the name): "backy" + "job_running" = backy_job_running,
/// the names the dashboard and alert rules in deploy/ query.
/// </summary>
public static class DaemonMeter
{
    public const string Name = "backy";

    /// <summary>
    /// A job run finished (true = success). <c>backy_backups_total</c> is a Prometheus counter made by the exporter
    /// itself: its adapter deliberately exports every .NET counter as a gauge (a re-created instrument could make a
    /// counter go down), and a gauge may not be called <c>_total</c> (<c>promtool check metrics</c>).
    /// </summary>
    public static event Action<bool>? BackupFinished;

    public static void OnBackupFinished(bool success) => BackupFinished?.Invoke(success);
}

/// <summary>The daemon's version, for <c>backy_build_info</c>.</summary>
internal static class ThisAssembly
{
    public static readonly string Version =
        typeof(ThisAssembly).Assembly.GetName().Version?.ToString() ?? "unknown";
}

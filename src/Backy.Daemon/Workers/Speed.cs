namespace Backy.Daemon.Workers;

/// <summary>Speed class of a job: fast jobs go ahead of slow ones for the worker-limit slots, and slow
/// ones never hold the last slot (<see cref="WorkerSlots"/>), so one slow 2 TiB backup cannot hold back
/// every small job (DESIGN 7).</summary>
public enum Speed
{
    Fast,
    Slow,
}

public static class SpeedClass
{
    /// <summary>The original's threshold: a job whose last backup took under 10 minutes is fast.</summary>
    public static readonly TimeSpan FastBelow = TimeSpan.FromMinutes(10);

    /// <summary>A job without a complete backup counts as slow: its first backup reads every block.</summary>
    public static Speed Of(TimeSpan? lastDuration) =>
        lastDuration is { } d && d < FastBelow ? Speed.Fast : Speed.Slow;

    public static string Name(this Speed speed) => speed == Speed.Fast ? "fast" : "slow";
}

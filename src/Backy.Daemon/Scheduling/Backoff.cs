namespace Backy.Daemon.Scheduling;

/// <summary>Retry delay after consecutive failures: 2, 4, 8 ... minutes, at most 6 hours (the
/// original's policy: a broken source is retried soon, a long outage does not hammer it).</summary>
public static class Backoff
{
    public static readonly TimeSpan Maximum = TimeSpan.FromHours(6);

    public static TimeSpan After(int failures)
    {
        if (failures <= 0)
            return TimeSpan.Zero;
        // 2^9 min > 6 h already: clamp the exponent so the shift never overflows.
        var minutes = 1L << Math.Min(failures, 10);
        var delay = TimeSpan.FromMinutes(minutes);
        return delay < Maximum ? delay : Maximum;
    }
}

namespace Backy.Storage.Copies;

/// <summary>
/// When the daemon tries a failing copy target again. A target that is down (wrong credentials, endpoint gone,
/// bucket removed) would otherwise cost every job run a worker, connection time-outs and a warning. After the
/// n-th consecutive failure (<see cref="CopyStatusFile.Failures"/>) the copy is skipped until
/// <c>min(interval x 2^(n-1), cap) - interval/2</c> after the failed attempt: the half interval of slack makes the
/// first retry the very next run (a run comes one interval after the previous one began, and the attempt came
/// after that run's backup), then every 2nd, 4th, 8th ... run, up to one try a day (<see cref="Cap"/>, at least one
/// interval). The state is the job directory's <c>copies/NAME.status</c>, so it survives a daemon restart; one
/// success resets it. `backy copy` by hand is never held back.
/// </summary>
public static class CopyBackoff
{
    /// <summary>The longest wait between two tries (or the interval, when that is longer).</summary>
    public static readonly TimeSpan Cap = TimeSpan.FromDays(1);

    /// <summary>The earliest time the daemon tries the target again, or null when it is due now (no failure recorded).</summary>
    public static DateTimeOffset? NextAttempt(CopyStatusFile? status, TimeSpan interval)
    {
        if (status is null || status.LastError is null || status.Failures <= 0 || interval <= TimeSpan.Zero)
            return null;
        var cap = interval > Cap ? interval : Cap;
        var doublings = Math.Min(status.Failures - 1, 30);
        var wait = interval.Ticks * Math.Pow(2, doublings) >= cap.Ticks ? cap : interval * Math.Pow(2, doublings);
        return status.LastAttempt + wait - interval / 2;
    }

    /// <summary>True when the daemon's run at <paramref name="now"/> should try the target.</summary>
    public static bool IsDue(CopyStatusFile? status, TimeSpan interval, DateTimeOffset now) =>
        NextAttempt(status, interval) is not { } next || now >= next;
}

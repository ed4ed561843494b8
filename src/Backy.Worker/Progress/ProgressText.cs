using System.Globalization;
using Backy.Storage.Progress;

namespace Backy.Worker.Progress;

/// <summary>Progress in words, the same on a worker's terminal and in <c>backy client</c>: "42 %, 3 min left".</summary>
public static class ProgressText
{
    /// <summary>"42 %, 3 min left", "42 %" while the time left is unknown.</summary>
    public static string Short(double percent, TimeSpan? remaining) =>
        remaining is { } left && percent < 100
            ? $"{Math.Floor(percent).ToString("0", CultureInfo.InvariantCulture)} %, {Left(left)} left"
            : $"{Math.Floor(percent).ToString("0", CultureInfo.InvariantCulture)} %";

    /// <summary>"backup 21/50 blocks, 52.0 MiB/s, 3 min left".</summary>
    public static string Describe(ProgressEstimate estimate)
    {
        var p = estimate.Progress;
        var text = $"{p.Operation} {p.BlocksDone}/{p.BlocksTotal} blocks";
        if (estimate.BytesPerSecond > 0) text += $", {Humanize.Size((long)estimate.BytesPerSecond)}/s";
        if (estimate.Remaining is { } left && p.BlocksDone < p.BlocksTotal) text += $", {Left(left)} left";
        return text;
    }

    /// <summary>"45 s", "3 min", "2 h 5 min": rounded up, so that "0 s" is never shown while work is left.</summary>
    public static string Left(TimeSpan left)
    {
        var s = (long)Math.Ceiling(Math.Max(0, left.TotalSeconds));
        if (s < 60) return $"{Math.Max(1, s)} s";
        var minutes = (s + 59) / 60;
        if (minutes < 60) return $"{minutes} min";
        var hours = minutes / 60;
        var rest = minutes % 60;
        if (hours < 48) return rest == 0 ? $"{hours} h" : $"{hours} h {rest} min";
        return $"{(hours + 23) / 24} days";
    }
}

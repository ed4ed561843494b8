using System.IO.Hashing;
using System.Text;

namespace Backy.Storage.Schedules;

/// <summary>
/// The offset that spreads jobs over their interval so they do not all start at the boundary.
/// Derived from a stable hash of the job name: the same job keeps its slot across restarts,
/// processes and machines (string.GetHashCode would move it on every start).
/// </summary>
public static class JobSpread
{
    /// <summary>Whole seconds in [0, longest interval of the schedule].</summary>
    public static TimeSpan For(string jobName, Schedule schedule)
    {
        ArgumentNullException.ThrowIfNull(jobName);
        if (schedule.Intervals.Count == 0)
            return TimeSpan.Zero;
        var longest = (ulong)schedule.Intervals.Max(i => i.Interval).TotalSeconds;
        var hash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(jobName));
        return TimeSpan.FromSeconds((long)(hash % (longest + 1)));
    }
}

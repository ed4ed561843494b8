namespace Backy.Storage.Schedules;

/// <summary>
/// Interval boundaries as the original computes them (<c>next_in_interval</c>): multiples of
/// the interval counted from 0001-01-01T00:00:00Z, shifted by the job's spread. Counting from a
/// fixed epoch (not from the last backup) keeps a job's times stable across restarts and lets
/// the spread distribute jobs evenly over the interval.
/// </summary>
public static class IntervalBoundary
{
    /// <summary>The first boundary strictly after <paramref name="now"/>.</summary>
    public static DateTimeOffset NextAfter(DateTimeOffset now, TimeSpan interval, TimeSpan spread)
    {
        if (interval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "interval must be positive");
        // The spread is reduced modulo the interval so that adding it never skips a boundary;
        // subtracting it first means "now" inside the spread window still belongs to the
        // previous interval (the original's comments say the same).
        var shift = ((spread.Ticks % interval.Ticks) + interval.Ticks) % interval.Ticks;
        var relative = now.UtcTicks - shift;
        // Floor division: relative is only negative within the first spread after year 1.
        var current = relative >= 0 ? relative / interval.Ticks : -((-relative + interval.Ticks - 1) / interval.Ticks);
        var next = (current + 1) * interval.Ticks + shift;
        return new DateTimeOffset(next, TimeSpan.Zero);
    }
}

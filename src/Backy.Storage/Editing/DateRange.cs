using System.Globalization;

namespace Backy.Storage.Editing;

/// <summary>
/// The <c>-f FROM -u UNTIL</c> range of <c>distrust</c>, both ends inclusive and optional. A bare
/// date means the whole day (UTC, like the timestamps in .rev files: the original compares
/// <c>timestamp.date()</c>); a date and time means that instant. Times without an offset are UTC.
/// </summary>
public sealed record DateRange(DateTimeOffset? From, DateTimeOffset? UntilExclusive)
{
    public static readonly DateRange All = new(null, null);

    private static readonly string[] TimeFormats =
    [
        "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mmK", "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
    ];

    /// <param name="from">The -f value or null.</param>
    /// <param name="until">The -u value or null.</param>
    public static DateRange Parse(string? from, string? until)
    {
        var start = from is null ? (DateTimeOffset?)null : ParseBound(from, "--from", endOfDay: false);
        var end = until is null ? (DateTimeOffset?)null : ParseBound(until, "--until", endOfDay: true);
        if (start is not null && end is not null && start >= end)
            throw new BackyException($"empty date range: --from '{from}' is after --until '{until}'");
        return new DateRange(start, end);
    }

    public bool Contains(DateTimeOffset t) => (From is null || t >= From) && (UntilExclusive is null || t < UntilExclusive);

    private static DateTimeOffset ParseBound(string text, string option, bool endOfDay)
    {
        var s = text.Trim();
        if (DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return endOfDay ? start.AddDays(1) : start;
        }
        if (DateTimeOffset.TryParseExact(s, TimeFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant))
            return endOfDay ? instant.AddTicks(1) : instant;
        throw new BackyException(
            $"invalid date '{text}' for {option}: expected an ISO 8601 date like 2015-11-05 or a time like 2015-11-05T10:30:00Z");
    }
}

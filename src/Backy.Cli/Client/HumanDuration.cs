namespace Backy.Cli.Client;

/// <summary>
/// Durations as the original client prints them (Python humanize's <c>naturaldelta</c>):
/// "a moment", "50 seconds", "a minute", "2 minutes", "an hour", "a day", "3 months", "2 years".
/// The largest unit wins and the count is rounded down, so the text never overstates.
/// </summary>
public static class HumanDuration
{
    public static string Format(TimeSpan duration)
    {
        var seconds = (long)Math.Abs(duration.TotalSeconds);
        var days = seconds / 86_400;
        return seconds switch
        {
            0 => "a moment",
            1 => "a second",
            < 60 => $"{seconds} seconds",
            < 120 => "a minute",
            < 3_600 => $"{seconds / 60} minutes",
            < 7_200 => "an hour",
            < 86_400 => $"{seconds / 3_600} hours",
            _ => Days(days),
        };
    }

    private static string Days(long days)
    {
        // humanize counts a month as 30.5 days and a year as 365 days.
        var months = (long)(days / 30.5);
        return days switch
        {
            1 => "a day",
            < 365 when months == 0 => $"{days} days",
            < 365 when months == 1 => "a month",
            < 365 => $"{months} months",
            < 730 => "a year",
            _ => $"{days / 365} years",
        };
    }
}

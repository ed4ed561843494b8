using System.Globalization;

namespace Backy.Worker;

/// <summary>Sizes and durations the way the original's tables show them (Python humanize).</summary>
public static class Humanize
{
    /// <summary>Binary units with one decimal: "10.0 GiB", "149.3 MiB", "512 Bytes".</summary>
    public static string Size(long bytes)
    {
        if (bytes == 1) return "1 Byte";
        if (bytes < 1024) return $"{bytes} Bytes";
        string[] units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double value = bytes;
        var unit = -1;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    /// <summary>"a moment", "24 seconds", "a minute", "2 minutes", "an hour", "3 hours", "a day", "5 days".</summary>
    public static string Duration(TimeSpan span)
    {
        var s = (long)span.TotalSeconds;
        if (s < 1) return "a moment";
        if (s == 1) return "a second";
        if (s < 60) return $"{s} seconds";
        if (s < 120) return "a minute";
        if (s < 3600) return $"{s / 60} minutes";
        if (s < 7200) return "an hour";
        if (s < 86400) return $"{s / 3600} hours";
        if (s < 2 * 86400) return "a day";
        return $"{s / 86400} days";
    }
}

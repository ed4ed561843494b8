using System.Globalization;

namespace Backy.Storage.Schedules;

/// <summary>
/// Schedule durations as the original writes them: an integer with one of the suffixes
/// s, m, h, d, w, or a bare integer of seconds.
/// </summary>
public static class Durations
{
    public static TimeSpan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Trim();
        if (s.Length == 0)
            throw new ConfigException($"invalid duration '{text}': empty");
        var unit = s[^1];
        var digits = char.IsDigit(unit) ? s : s[..^1];
        long factor = unit switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 7 * 86400,
            _ when char.IsDigit(unit) => 1,
            _ => throw new ConfigException($"invalid duration '{text}': unknown unit '{unit}' (use s, m, h, d or w)"),
        };
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            throw new ConfigException($"invalid duration '{text}': expected a whole number followed by s, m, h, d or w");
        if (n <= 0 || n > TimeSpan.MaxValue.TotalSeconds / factor / 2)
            throw new ConfigException($"invalid duration '{text}': must be positive and at most 100 years");
        return TimeSpan.FromSeconds(n * factor);
    }

    /// <summary>The shortest text that parses back to the same duration ("1d", "90m", "45s").</summary>
    public static string Format(TimeSpan duration)
    {
        var secs = (long)duration.TotalSeconds;
        foreach (var (suffix, size) in new[] { ("w", 7 * 86400L), ("d", 86400L), ("h", 3600L), ("m", 60L) })
            if (secs % size == 0)
                return $"{secs / size}{suffix}";
        return $"{secs}s";
    }
}

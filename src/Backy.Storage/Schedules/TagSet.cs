namespace Backy.Storage.Schedules;

/// <summary>Tag sets as the command line takes them: one comma-separated argument.</summary>
public static class TagSet
{
    /// <summary>"daily, weekly" -> {daily, weekly}. Blanks around tags and empty items are
    /// dropped, so "" is the empty set (tags set REV "" clears a revision's tags).</summary>
    public static IReadOnlySet<string> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Same members, order ignored.</summary>
    public static bool SetEquals(IEnumerable<string> a, IEnumerable<string> b) =>
        new HashSet<string>(a, StringComparer.Ordinal).SetEquals(b);
}

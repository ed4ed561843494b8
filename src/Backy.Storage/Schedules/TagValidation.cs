namespace Backy.Storage.Schedules;

/// <summary>
/// Which tags a person may give to <c>backup</c> and <c>tags</c>: the schedule's tags and
/// <c>manual:</c> tags; anything else only with <c>-f</c>, since the next expire would silently
/// remove it again.
/// </summary>
public static class TagValidation
{
    public const string ManualPrefix = "manual:";

    public static bool IsManual(string tag) => tag.StartsWith(ManualPrefix, StringComparison.Ordinal);

    /// <summary>The tags that are neither schedule tags nor manual tags, sorted.</summary>
    public static IReadOnlyList<string> Unknown(Schedule schedule, IEnumerable<string> tags) =>
        tags.Where(t => !schedule.HasTag(t) && !IsManual(t)).Distinct().Order(StringComparer.Ordinal).ToArray();

    /// <summary>Throws a <see cref="BackyException"/> naming every unknown tag unless
    /// <paramref name="force"/>.</summary>
    public static void Validate(Schedule schedule, IEnumerable<string> tags, bool force)
    {
        if (force)
            return;
        var unknown = Unknown(schedule, tags);
        if (unknown.Count == 0)
            return;
        var known = schedule.Intervals.Count == 0 ? "none" : string.Join(", ", schedule.Intervals.Select(i => i.Tag));
        var noun = unknown.Count == 1 ? "tag" : "tags";
        throw new BackyException(
            $"unknown {noun} {string.Join(", ", unknown.Select(t => $"'{t}'"))}: not in the schedule ({known}) " +
            $"and not starting with '{ManualPrefix}' (use -f to force)");
    }
}

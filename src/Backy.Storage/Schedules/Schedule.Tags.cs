namespace Backy.Storage.Schedules;

public sealed partial class Schedule
{
    /// <summary>
    /// Tags in display order: schedule tags by interval, shortest first; then every other tag
    /// (manual:, ad-hoc) alphabetically. The original puts unknown tags first (interval 0);
    /// we list them last so the regular tags line up in tables.
    /// </summary>
    public IReadOnlyList<string> SortTags(IEnumerable<string> tags) =>
        tags.Distinct(StringComparer.Ordinal)
            .OrderBy(t => Find(t)?.Interval ?? TimeSpan.MaxValue)
            .ThenBy(t => t, StringComparer.Ordinal)
            .ToArray();

    /// <summary>Sorted tags joined with commas, as status tables show them.</summary>
    public string FormatTags(IEnumerable<string> tags) => string.Join(",", SortTags(tags));
}

using System.Globalization;

namespace Backy.Storage.Revisions;

/// <summary>
/// Selects a revision as the manual's <c>-r</c> describes: a full id; a relative count (0 = newest,
/// 1 = the one before, ...); <c>last</c>/<c>latest</c>; or a tag (the newest revision carrying it).
/// </summary>
public static class RevisionSpec
{
    /// <summary>Resolves <paramref name="spec"/> among <paramref name="history"/> (oldest first).</summary>
    public static Revision Resolve(string? spec, IReadOnlyList<Revision> history)
    {
        var s = string.IsNullOrWhiteSpace(spec) ? "latest" : spec.Trim();
        if (history.Count == 0)
            throw new BackyException($"no revision matches '{s}': the job has no revisions");
        var byId = history.FirstOrDefault(r => r.Id == s);
        if (byId is not null) return byId;
        if (s is "last" or "latest") return history[^1];
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            if (n >= history.Count)
                throw new BackyException($"no revision matches '{s}': there are only {history.Count} revisions");
            return history[history.Count - 1 - n];
        }
        return history.LastOrDefault(r => r.Tags.Contains(s))
            ?? throw new BackyException($"no revision matches '{s}': not a revision id, number or tag");
    }
}

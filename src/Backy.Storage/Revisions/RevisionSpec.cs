using System.Globalization;

namespace Backy.Storage.Revisions;

/// <summary>
/// Selects a revision as the manual's <c>-r</c> describes: a full id; a relative count (0 = newest,
/// 1 = the one before, ...); <c>last</c>/<c>latest</c>; or a tag (the newest revision carrying it).
/// The same in every command: numbers, <c>last</c> and tags count COMPLETE revisions only (what
/// <c>status</c> lists as valid and what restore can read). An incomplete revision (a backup that did
/// not finish, which the next backup deletes) can only be named by its id, and only by the commands
/// that make sense for it (<c>forget</c>); elsewhere its id gets "revision X is incomplete".
/// </summary>
public static class RevisionSpec
{
    /// <summary>Resolves <paramref name="spec"/> among <paramref name="revisions"/> (oldest first; complete
    /// and incomplete, as the job directory holds them).</summary>
    /// <param name="incompleteById">True for the commands that may act on an incomplete revision (forget).</param>
    public static Revision Resolve(string? spec, IReadOnlyList<Revision> revisions, bool incompleteById = false)
    {
        var s = string.IsNullOrWhiteSpace(spec) ? "latest" : spec.Trim();
        var byId = revisions.FirstOrDefault(r => r.Id == s);
        if (byId is not null)
            return byId.IsComplete || incompleteById
                ? byId
                : throw new BackyException($"revision {s} is incomplete (a backup did not finish): only forget can name it; the next backup deletes it");
        var history = revisions.Where(r => r.IsComplete).ToList();
        if (history.Count == 0)
            throw new BackyException($"no revision matches '{s}': the job has no complete revisions");
        if (s is "last" or "latest") return history[^1];
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            if (n >= history.Count)
                throw new BackyException($"no revision matches '{s}': there are only {history.Count} complete revisions");
            return history[history.Count - 1 - n];
        }
        return history.LastOrDefault(r => r.Tags.Contains(s))
            ?? throw new BackyException($"no revision matches '{s}': not a revision id, number or tag"
                + (revisions.Any(r => !r.IsComplete && r.Tags.Contains(s)) ? " of a complete revision (only an incomplete one carries that tag)" : ""));
    }
}

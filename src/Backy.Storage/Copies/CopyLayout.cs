using Backy.Storage.Jobs;
using Backy.Storage.Revisions;

namespace Backy.Storage.Copies;

/// <summary>
/// Object names of one job's copy, relative to <c>PREFIX/JOB/</c> (one owner for every name):
/// <code>
/// backy-copy               marker: format, encryption, key id (plain YAML, written first)
/// &lt;rev-id&gt;.rev            revision metadata (written last: its presence is what makes a revision visible)
/// &lt;rev-id&gt;                the revision's chunk map (our format, byte-identical to the local file)
/// chunks/&lt;xx&gt;/&lt;name&gt;     chunk files (our format); name = chunk id, or its keyed hash when encrypted
/// pending/&lt;rev-id&gt;        the chunk map of a copy in progress (pins its chunks against a copy purge)
/// </code>
/// Without encryption the objects are the local files under the local names, so a plain copy downloaded by
/// any tool is a job directory that backy restores from.
/// </summary>
public static class CopyLayout
{
    public const string Marker = "backy-copy";
    public const string ChunksPrefix = "chunks/";
    public const string PendingPrefix = "pending/";

    public static string Revision(string id) => id + JobLayout.RevisionExtension;
    public static string ChunkMap(string id) => id;
    public static string Pending(string id) => PendingPrefix + id;
    public static string Chunk(string name) => $"{ChunksPrefix}{name[..2]}/{name}";

    /// <summary>The revision id of a top-level <c>&lt;id&gt;.rev</c> name, or null.</summary>
    public static string? RevisionIdOf(string relativeKey) =>
        relativeKey.EndsWith(JobLayout.RevisionExtension, StringComparison.Ordinal) && !relativeKey.Contains('/')
            ? relativeKey[..^JobLayout.RevisionExtension.Length] : null;

    /// <summary>The chunk name of a <c>chunks/xx/name</c> key, or null.</summary>
    public static string? ChunkNameOf(string relativeKey)
    {
        if (!relativeKey.StartsWith(ChunksPrefix, StringComparison.Ordinal)) return null;
        var name = relativeKey[(relativeKey.LastIndexOf('/') + 1)..];
        return name.Length == 32 && relativeKey == Chunk(name) ? name : null;
    }
}

namespace Backy.Storage.Legacy;

/// <summary>
/// Names of the Python backy 2.x formats as they appear in a job directory. Frozen: they are the
/// original's, and `upgrade` relies on them to find what is left to convert.
/// </summary>
public static class LegacyFormat
{
    /// <summary><c>backend_type: chunked</c>: LZO chunks named by MurmurHash3, a JSON chunk map.</summary>
    public const string Chunked = "chunked";
    /// <summary><c>backend_type: cowfile</c> (or none at all): the revision file is the raw image.</summary>
    public const string Cowfile = "cowfile";

    /// <summary>The extension of the original's chunk files.</summary>
    public const string ChunkExtension = ".chunk.lzo";

    /// <summary>
    /// During the switch of one revision, its old data file is parked under this suffix until the
    /// .rev names the new format (see <see cref="RevisionUpgrader"/>). Readers of a legacy revision
    /// prefer this file when it exists.
    /// </summary>
    public const string ParkedSuffix = ".legacy";

    /// <summary>Our new chunk map, complete and durable, before it is switched in.</summary>
    public const string StagedMapSuffix = ".upgrade";

    public static bool IsLegacy(string backendType) => backendType is Chunked or Cowfile;

    /// <summary>How status names a revision's format while some are not upgraded yet.</summary>
    public static string Describe(string backendType) => IsLegacy(backendType) ? $"old {backendType} (upgrade)" : "current";

    /// <summary>The file that holds a legacy revision's data right now: parked or in place.</summary>
    public static string DataPath(string jobDirectory, string revisionId)
    {
        var inPlace = Path.Combine(jobDirectory, revisionId);
        var parked = inPlace + ParkedSuffix;
        return File.Exists(parked) ? parked : inPlace;
    }
}

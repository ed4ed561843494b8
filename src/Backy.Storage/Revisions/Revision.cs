namespace Backy.Storage.Revisions;

/// <summary>
/// The metadata of one revision, as in the original's <c>&lt;id&gt;.rev</c>. A revision without
/// <see cref="Duration"/> is incomplete: a backup was interrupted, and the next backup deletes it.
/// </summary>
public sealed class Revision
{
    /// <summary>Our chunk format (XxHash128 + LZ4 + binary chunk map). The original writes "chunked"
    /// (LZO chunks, JSON maps) and "cowfile"; `upgrade` converts those.</summary>
    public const string OurBackendType = "chunked-xxh128";

    public required string Id { get; init; }
    public required DateTimeOffset Timestamp { get; set; }
    /// <summary>Id of the revision this one was made against, or empty.</summary>
    public string Parent { get; set; } = "";
    public Trust Trust { get; set; } = Trust.Trusted;
    public SortedSet<string> Tags { get; set; } = new(StringComparer.Ordinal);
    public SortedSet<string> OrigTags { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Empty for local revisions, else the peer that holds the data.</summary>
    public string Server { get; set; } = "";
    public string BackendType { get; set; } = OurBackendType;

    public long BytesWritten { get; set; }
    /// <summary>Seconds the backup took; null while the backup runs (or after it died).</summary>
    public double? Duration { get; set; }
    /// <summary>Further <c>stats</c> keys, kept as read so that nothing is lost on rewrite.</summary>
    public Dictionary<string, string> ExtraStats { get; set; } = new(StringComparer.Ordinal);

    public bool IsComplete => Duration is not null;
    public bool IsLocal => Server.Length == 0;

    public override string ToString() => Id;
}

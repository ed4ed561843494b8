namespace Backy.Storage.Legacy;

/// <summary>What one `upgrade` run did, revision by revision.</summary>
public sealed class UpgradeReport
{
    public List<string> Converted { get; } = [];
    /// <summary>Revisions whose old data is damaged: left exactly as they were.</summary>
    public List<(string Id, string Reason)> Failed { get; } = [];
    /// <summary>Legacy revisions not touched on purpose (incomplete, or metadata of a peer's revision).</summary>
    public List<(string Id, string Reason)> Skipped { get; } = [];
    public long LegacyChunksDeleted { get; set; }

    public bool Success => Failed.Count == 0;

    public string Summary()
    {
        var text = $"upgrade: {Converted.Count} revision(s) converted, {Failed.Count} failed, {Skipped.Count} skipped, " +
                   $"{LegacyChunksDeleted} old chunk file(s) removed";
        foreach (var (id, reason) in Failed)
            text += $"\n  failed {id}: {reason} (left in the old format)";
        foreach (var (id, reason) in Skipped)
            text += $"\n  skipped {id}: {reason}";
        return text;
    }
}

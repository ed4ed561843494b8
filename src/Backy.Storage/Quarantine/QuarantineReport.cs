namespace Backy.Storage.Quarantine;

/// <summary>
/// A block that did not match the source right after the backup: what the source held
/// (<paramref name="SourceHash"/>) and what the store held (<paramref name="StoredHash"/>), both kept as raw
/// data under <c>quarantine/chunks/&lt;hash&gt;</c>.
/// </summary>
public sealed record QuarantineReport(
    string Id,
    string Revision,
    long Block,
    long Offset,
    int Length,
    string SourceHash,
    string StoredHash,
    DateTimeOffset Timestamp);

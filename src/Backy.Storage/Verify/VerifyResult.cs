using Backy.Storage.Jobs;

namespace Backy.Storage.Verify;

/// <summary>What a verification did.</summary>
/// <param name="Verified">Revisions whose every chunk was read back in this run and found sound.</param>
/// <param name="Removed">Revisions with bad data, removed (their bad chunk files deleted).</param>
/// <param name="Problems">One line per removed or kept revision: what is wrong with it.</param>
/// <param name="Distrusted">Other revisions that use a chunk found bad: distrusted, so the next backup writes it again.</param>
/// <param name="Kept">Revisions that could not be judged (a format this version cannot read): kept, not verified.</param>
public sealed record VerifyResult(
    IReadOnlyList<string> Verified,
    IReadOnlyList<string> Removed,
    IReadOnlyList<string> Problems,
    IReadOnlyList<string> Distrusted,
    IReadOnlyList<string> Kept)
{
    public static VerifyResult Nothing { get; } = new([], [], [], [], []);

    /// <summary><c>.rev</c> files that cannot be read (<see cref="RevisionVerifier.VerifyJobAsync"/> without a spec):
    /// kept, reported.</summary>
    public IReadOnlyList<DamagedRevision> Damaged { get; init; } = [];

    /// <summary>Why the verify fails (exit 1), in the order an operator must act: removed, kept, damaged; null when
    /// everything asked for was verified.</summary>
    public string? Failure =>
        Removed.Count > 0
            ? $"{Removed.Count} revision(s) failed verification and were removed: {string.Join("; ", Problems)}" +
              (Distrusted.Count > 0 ? $"; distrusted {string.Join(", ", Distrusted)}, which use the bad chunks (the next backup writes them again)" : "")
        : Kept.Count > 0
            ? $"{Kept.Count} revision(s) could not be verified and were kept: {string.Join("; ", Problems)}"
        : Damaged.Count > 0
            ? $"{Damaged.Count} revision file(s) damaged and kept (repair, or remove with forget -r ID): {string.Join("; ", Damaged.Select(d => d.Reason))}"
        : null;
}

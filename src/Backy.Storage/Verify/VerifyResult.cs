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
    IReadOnlyList<string> Kept);

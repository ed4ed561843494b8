namespace Backy.Storage.Backup;

/// <summary>Which blocks the post-backup verification compares with the source.</summary>
/// <param name="Fraction">Share of blocks to check, 1.0 = every block; at least one block is always checked.</param>
/// <param name="MaxDuration">Stop after this long (the blocks checked so far count).</param>
public sealed record VerificationPolicy(double Fraction, TimeSpan MaxDuration)
{
    /// <summary>Every block, no time limit: the file source, where re-reading is cheap.</summary>
    public static readonly VerificationPolicy Full = new(1.0, Timeout.InfiniteTimeSpan);

    /// <summary>1 % of blocks picked at random, at most 5 minutes: Ceph, where every read crosses the network.</summary>
    public static readonly VerificationPolicy Sampled = new(0.01, TimeSpan.FromMinutes(5));

    public bool IsFull => Fraction >= 1.0;
}

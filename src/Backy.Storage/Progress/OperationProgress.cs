namespace Backy.Storage.Progress;

/// <summary>
/// How far a running backup, restore, verify, copy or upgrade is, as its engine reports it through an
/// <see cref="IProgress{T}"/>: blocks (4 MiB units of work; for a copy, chunk objects) done of the total the
/// engine planned, and the bytes it read and wrote so far. Counters only grow during one operation.
/// </summary>
/// <param name="Operation">"backup", "restore", "verify", "copy" or "upgrade".</param>
/// <param name="BlocksDone">Units done so far.</param>
/// <param name="BlocksTotal">Units the operation will do (0 when there is nothing to do).</param>
/// <param name="BytesRead">Bytes read from the source (backup), the repository (restore, verify, copy, upgrade).</param>
/// <param name="BytesWritten">Bytes written: new chunk files (backup, upgrade), the target (restore), objects (copy).</param>
public sealed record OperationProgress(string Operation, long BlocksDone, long BlocksTotal, long BytesRead, long BytesWritten)
{
    /// <summary>0 to 100; 100 when there is nothing to do.</summary>
    public double Percent => BlocksTotal <= 0 ? 100 : Math.Clamp(100.0 * BlocksDone / BlocksTotal, 0, 100);
}

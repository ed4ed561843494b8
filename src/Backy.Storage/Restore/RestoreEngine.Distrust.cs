using Backy.Storage.Revisions;

namespace Backy.Storage.Restore;

public sealed partial class RestoreEngine
{
    /// <summary>How long a restore that found a bad chunk waits for the <c>.backup</c> lock to distrust every
    /// revision. Bounded: a long backup may hold it for hours, and the restore's own error must reach the operator.
    /// A minute outlasts every tag change, expire or forget.</summary>
    public TimeSpan DistrustWait { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Distrusts every revision through the job's revision store; says what happened, for the error line.</summary>
    private async Task<string> DistrustAllAsync(string reason, CancellationToken cancellationToken)
    {
        _logger.RestoreDistrustWaiting(DistrustWait.TotalSeconds);
        try
        {
            using var store = await RevisionStore.TryOpenAsync(_job, DistrustWait, _logger, cancellationToken).ConfigureAwait(false);
            if (store is null)
            {
                _logger.RestoreDistrustTimedOut(DistrustWait.TotalSeconds);
                return $"the revisions could NOT be distrusted: another backup or revision change held the lock for {DistrustWait.TotalSeconds:F0} s (run distrust when it is done)";
            }
            store.DistrustAll(reason);
            return "all revisions are now distrusted";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BackyException)
        {
            return $"the revisions could NOT be distrusted: {e.Message}";
        }
    }
}

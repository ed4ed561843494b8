namespace Backy.Daemon.Workers;

/// <summary>
/// <c>worker-limit</c> concurrent workers per speed class. A slot is held for a whole job run
/// (backup, expire, purge, callback) so that one job's steps never interleave with another's on a
/// limit of 1. A reload with a new limit replaces the instance; runs holding an old slot finish on it.
/// </summary>
public sealed class WorkerSlots(int limit)
{
    private readonly SemaphoreSlim _fast = new(limit, limit);
    private readonly SemaphoreSlim _slow = new(limit, limit);

    public int Limit { get; } = limit;

    public async Task<IDisposable> AcquireAsync(Speed speed, CancellationToken cancellationToken)
    {
        var semaphore = speed == Speed.Fast ? _fast : _slow;
        await semaphore.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Slot(semaphore);
    }

    private sealed class Slot(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                semaphore.Release();
        }
    }
}

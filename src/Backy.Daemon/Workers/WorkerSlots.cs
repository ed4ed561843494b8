namespace Backy.Daemon.Workers;

/// <summary>
/// <c>worker-limit</c>: the total number of job runs (each one worker process at a time) in progress at once
/// (the manual: "Defaults to 1 (no parallel backups)"). A slot is held for a whole job run (backup, expire,
/// purge, callback) so that one job's steps never interleave with another's on a limit of 1.
/// <para>
/// Fast jobs do not wait behind slow ones within that limit (issue 14.9), by two rules:
/// <list type="number">
/// <item>Slow runs hold at most <c>limit - 1</c> slots (all of them on a limit of 1): from a limit of 2 on,
/// one slot is always left for fast jobs, so a 2 TiB first backup cannot shut out the small jobs.</item>
/// <item>A free slot goes to the waiter that has waited longest, where a fast waiter counts as having
/// waited <see cref="SpeedClass.FastBelow"/> (10 min) longer than it has. A fast job thus overtakes slow
/// waiters, but a slow job that has waited 10 minutes more than a fast one goes first: slow jobs are
/// delayed, never starved.</item>
/// </list>
/// </para>
/// A reload with a new limit changes <see cref="Limit"/> in place: the runs in progress keep their slots and
/// count against the new limit, so the total is never exceeded across a reload either.
/// </summary>
public sealed class WorkerSlots
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _clock;
    private readonly List<Waiter> _waiting = [];
    private int _limit;
    private int _running;
    private int _runningSlow;
    private long _sequence;

    public WorkerSlots(int limit, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _limit = limit;
        _clock = clock ?? TimeProvider.System;
    }

    public int Limit
    {
        get { lock (_gate) return _limit; }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            lock (_gate)
            {
                _limit = value;
                Dispatch();
            }
        }
    }

    /// <summary>Runs in progress (slots held).</summary>
    public int Running
    {
        get { lock (_gate) return _running; }
    }

    public async Task<IDisposable> AcquireAsync(Speed speed, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (_gate)
        {
            var since = _clock.GetUtcNow() - (speed == Speed.Fast ? SpeedClass.FastBelow : TimeSpan.Zero);
            waiter = new Waiter(speed, since, _sequence++);
            _waiting.Add(waiter);
            Dispatch();
        }
        await using (cancellationToken.Register(() => Abandon(waiter, cancellationToken)).ConfigureAwait(false))
            await waiter.Granted.Task.ConfigureAwait(false);
        return new Slot(this, speed);
    }

    /// <summary>A waiter that is stopped before it got a slot leaves the queue; one that got it just
    /// before keeps it (its caller releases it like any other).</summary>
    private void Abandon(Waiter waiter, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_waiting.Remove(waiter))
                waiter.Granted.TrySetCanceled(cancellationToken);
        }
    }

    private void Release(Speed speed)
    {
        lock (_gate)
        {
            _running--;
            if (speed == Speed.Slow)
                _runningSlow--;
            Dispatch();
        }
    }

    /// <summary>Behind _gate: hands free slots to waiters by the two rules of the class comment.</summary>
    private void Dispatch()
    {
        var slowLimit = Math.Max(1, _limit - 1);
        while (_running < _limit)
        {
            Waiter? next = null;
            foreach (var w in _waiting)
                if ((w.Speed == Speed.Fast || _runningSlow < slowLimit)
                    && (next is null || w.Since < next.Since || w.Since == next.Since && w.Sequence < next.Sequence))
                    next = w;
            if (next is null)
                return;
            _waiting.Remove(next);
            _running++;
            if (next.Speed == Speed.Slow)
                _runningSlow++;
            next.Granted.TrySetResult();
        }
    }

    private sealed record Waiter(Speed Speed, DateTimeOffset Since, long Sequence)
    {
        // Continuations run elsewhere: a grant inside Release must not run the next job's whole run under _gate.
        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Slot(WorkerSlots slots, Speed speed) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                slots.Release(speed);
        }
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Quartz;

namespace Backy.Daemon.Scheduling;

/// <summary>
/// Each job's next run as a Quartz trigger: a job loop awaits <see cref="WaitUntilAsync"/>, Quartz
/// fires the trigger at the deadline and <see cref="DeadlineReachedJob"/> completes the wait. The
/// Quartz job only signals (it never runs a backup on Quartz's thread pool), so a long backup can
/// never starve other jobs' triggers. One durable Quartz job, one trigger per waiting backup job.
/// </summary>
public sealed partial class Deadlines(ISchedulerFactory factory, TimeProvider clock, ILogger<Deadlines> logger)
{
    private static readonly JobKey SignalJob = new("deadline-reached", "backy");
    private const string TriggerGroup = "deadlines";
    internal const string JobNameKey = "job";

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiting = new(StringComparer.Ordinal);
    private IScheduler? _scheduler;
    private volatile bool _stopped;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _scheduler = await factory.GetScheduler(cancellationToken).ConfigureAwait(false);
        await _scheduler.Start(cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync()
    {
        _stopped = true;
        if (_scheduler is { } s)
            await s.Shutdown(false, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Completes at <paramref name="when"/> (at once when that has passed).</summary>
    public async Task WaitUntilAsync(string job, DateTimeOffset when, CancellationToken cancellationToken)
    {
        if (when <= clock.GetUtcNow())
            return;
        var scheduler = _scheduler ?? throw new InvalidOperationException("deadlines not started");
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[job] = reached;
        var key = new TriggerKey(job, TriggerGroup);
        var trigger = TriggerBuilder.Create(clock)
            .WithIdentity(key)
            .ForJob(SignalJob)
            .UsingJobData(JobNameKey, job)
            .StartAt(when)
            .Build();
        try
        {
            await scheduler.UnscheduleJob(key, CancellationToken.None).ConfigureAwait(false);
            await scheduler.ScheduleJob(trigger, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            LogScheduled(logger, job, when);
            await reached.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _waiting.TryRemove(new KeyValuePair<string, TaskCompletionSource>(job, reached));
            if (!_stopped)
                await scheduler.UnscheduleJob(key, CancellationToken.None).ConfigureAwait(false);
        }
    }

    internal void Reached(string job)
    {
        if (_waiting.TryGetValue(job, out var reached))
            reached.TrySetResult();
    }

    [LoggerMessage(EventId = 4300, Level = LogLevel.Debug, Message = "{Job}: next run at {When:O}")]
    private static partial void LogScheduled(ILogger logger, string job, DateTimeOffset when);

    /// <summary>The Quartz side: <c>DeadlineReachedJob</c> wakes the waiting loop.</summary>
    public static void Register(IQuartzBuilder q) =>
        q.AddJob<DeadlineReachedJob>(j => j.WithIdentity(SignalJob).StoreDurably());
}

/// <summary>Fired by each deadline trigger; wakes the job loop that waits for it.</summary>
internal sealed class DeadlineReachedJob(Deadlines deadlines) : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (context.MergedJobDataMap.GetString(Deadlines.JobNameKey) is { } job)
            deadlines.Reached(job);
        return ValueTask.CompletedTask;
    }
}

using Backy.Daemon.Api;
using Backy.Daemon.Workers;
using Backy.Storage.Jobs;
using Backy.Storage.Logging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Scheduling;

/// <summary>
/// Once a day (DESIGN 7): directories in base-dir without a configured job ("Dead") that have not
/// changed for <see cref="RemoveAfter"/> are deleted; dead directories a peer marked with
/// <see cref="JobLayout.PurgePendingMarker"/> get <c>backy-worker purge</c> and lose the marker.
/// Only top-level mtimes count: every backup, tag change or expire touches a top-level file, and
/// walking millions of chunk files daily would cost more than it tells.
/// </summary>
/// <remarks>Timed by the daemon's one timer mechanism, the Quartz <see cref="Deadlines"/> the job loops wait on, under a
/// key no job can have (job names never start with '.').</remarks>
public sealed partial class Housekeeping(IJobScheduler registry, WorkerLauncher launcher, Deadlines deadlines, TimeProvider clock, ILogger<Housekeeping> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromDays(1);
    public static readonly TimeSpan RemoveAfter = TimeSpan.FromDays(90);

    /// <summary>The first pass waits a little so that start-up (and READY) is not slowed by it.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMinutes(1);

    /// <summary>Housekeeping's key among the deadlines.</summary>
    internal const string DeadlineKey = ".housekeeping";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var next = clock.GetUtcNow() + FirstDelay;
            while (true)
            {
                await deadlines.WaitUntilAsync(DeadlineKey, next, stoppingToken).ConfigureAwait(false);
                try
                {
                    await RunOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // An unreadable base-dir must not end housekeeping for good (nor, as an exception
                    // escaping a BackgroundService, stop the host): tried again tomorrow.
                    LogFailed(logger, registry.Config.Global.BaseDir, e.Message);
                }
                next = clock.GetUtcNow() + Interval;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var config = registry.Config;
        var now = clock.GetUtcNow();
        foreach (var dir in DeadBackupDirectories.Enumerate(config.Global.BaseDir, config.Jobs.Keys.ToHashSet(StringComparer.Ordinal)))
        {
            try
            {
                var marker = Path.Combine(dir.FullName, JobLayout.PurgePendingMarker);
                if (File.Exists(marker))
                {
                    LogPurging(logger, dir.Name);
                    await launcher.RunWorkerAsync(["-t", TaskIds.New(), "-b", dir.FullName, "purge"], cancellationToken).ConfigureAwait(false);
                    File.Delete(marker);
                }
                else if (now - LastChange(dir) > RemoveAfter)
                {
                    LogRemoving(logger, dir.Name, LastChange(dir));
                    dir.Delete(recursive: true);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, dir.Name, e.Message);
            }
        }
    }

    private static DateTimeOffset LastChange(DirectoryInfo dir)
    {
        var newest = dir.LastWriteTimeUtc;
        foreach (var entry in dir.EnumerateFileSystemInfos())
            if (entry.LastWriteTimeUtc > newest)
                newest = entry.LastWriteTimeUtc;
        return new DateTimeOffset(newest, TimeSpan.Zero);
    }

    [LoggerMessage(EventId = 4700, Level = LogLevel.Information, Message = "housekeeping: purging {Dir} (marked purge-pending by a peer)")]
    private static partial void LogPurging(ILogger logger, string dir);

    [LoggerMessage(EventId = 4701, Level = LogLevel.Warning, Message = "housekeeping: removing {Dir}: no job configured, unchanged since {Since:O}")]
    private static partial void LogRemoving(ILogger logger, string dir, DateTimeOffset since);

    [LoggerMessage(EventId = 4702, Level = LogLevel.Error, Message = "housekeeping of {Dir} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string dir, string reason);
}

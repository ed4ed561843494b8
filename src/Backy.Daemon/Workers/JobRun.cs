using Backy.Daemon.Config;
using Backy.Daemon.Peers;
using Backy.Storage;
using Backy.Storage.Copies;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Workers;

/// <summary>
/// One scheduled run of a job, as separate worker processes in the original's order: backup with
/// the due tags, expire, purge, then the completion callback with the job's <c>status --yaml</c>.
/// Peer revisions are pulled before expire and changed tags pushed after it (<see cref="PeerSync"/>;
/// peer trouble is logged, it does not fail the run). A failing backup, expire or purge fails the run;
/// the callback (and the status it is given) only reports on it and never does.
/// </summary>
public sealed partial class JobRun(WorkerLauncher launcher, PeerSync peerSync, TimeProvider time, ILogger<JobRun> logger)
{
    /// <param name="jobDir">The job's directory under base-dir.</param>
    /// <param name="tags">Tags for the new revision (never empty).</param>
    /// <param name="callback">backup-completed-callback, or null.</param>
    /// <param name="peers">The configured peers (may be empty).</param>
    /// <param name="progress">Set while the backup or copy worker runs, from its progress lines.</param>
    public async Task ExecuteAsync(string job, string jobDir, IReadOnlyCollection<string> tags, string taskId,
        string? callback, IReadOnlyDictionary<string, PeerConfig> peers, RunProgress? progress, CancellationToken cancellationToken)
    {
        var log = Path.Combine(jobDir, Backy.Storage.Jobs.JobLayout.LogFileName);
        string[] Common() => ["-t", taskId, "-b", jobDir, "-l", log];

        LogBackup(logger, job, string.Join(',', tags));
        await launcher.RunWorkerAsync([.. Common(), "backup", string.Join(',', tags)], cancellationToken, progress).ConfigureAwait(false);
        await peerSync.PullAsync(job, jobDir, peers, taskId, cancellationToken).ConfigureAwait(false);
        await launcher.RunWorkerAsync([.. Common(), "expire"], cancellationToken).ConfigureAwait(false);
        await peerSync.PushAsync(job, jobDir, peers, taskId, cancellationToken).ConfigureAwait(false);
        await CopyAsync(job, jobDir, Common(), progress, cancellationToken).ConfigureAwait(false);
        await launcher.RunWorkerAsync([.. Common(), "purge"], cancellationToken).ConfigureAwait(false);
        if (callback is not null)
        {
            // The callback reports on a run that succeeded: nothing about it fails the run or repeats the backup.
            string status;
            try
            {
                status = await launcher.RunWorkerAsync([.. Common(), "status", "--yaml"], cancellationToken).ConfigureAwait(false);
            }
            catch (BackyException e)
            {
                LogNoStatusForCallback(logger, job, e.Message);
                return;
            }
            await launcher.RunCallbackAsync(callback, job, status, cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Warning, Message = "{Job}: backup-completed-callback not run (the backup stands): status failed: {Reason}")]
    private static partial void LogNoStatusForCallback(ILogger logger, string job, string reason);

    /// <summary>
    /// The off-site copies of the job (<c>copies:</c> in its config), after expire so that the copy gets the new
    /// revision at once. A failed copy never fails the backup: it is a warning here, recorded by the worker in
    /// copies/NAME.status (which `client check` reads: WARNING when a copy falls behind). A target that failed is
    /// tried again after growing waits (<see cref="CopyBackoff"/>, from that status file, so a restart keeps them):
    /// one worker runs `copy` when every target is due, else one `copy NAME` per due target.
    /// </summary>
    private async Task CopyAsync(string job, string jobDir, string[] common, RunProgress? progress, CancellationToken cancellationToken)
    {
        List<string> targets;
        TimeSpan interval;
        try
        {
            targets = JobCopies.Load(Path.Combine(jobDir, Backy.Storage.Jobs.JobLayout.ConfigFileName)).Keys.Order(StringComparer.Ordinal).ToList();
            if (targets.Count == 0)
                return;
            interval = new Backy.Storage.Jobs.JobDirectory(jobDir).LoadConfig().Schedule is { Intervals.Count: > 0 } schedule
                ? schedule.Intervals.Min(i => i.Interval) : TimeSpan.Zero;
        }
        catch (Backy.Storage.BackyException)
        {
            return; // the backup itself already read this config; a broken copies: section is the copy's error, reported by the worker
        }
        var now = time.GetUtcNow();
        var due = new List<string>();
        foreach (var name in targets)
        {
            var status = CopyStatusFile.TryRead(jobDir, name);
            if (CopyBackoff.NextAttempt(status, interval) is { } next && now < next)
                LogCopyBackedOff(logger, job, name, status!.Failures, next.UtcDateTime);
            else
                due.Add(name);
        }
        string[][] runs = due.Count == targets.Count ? [["copy"]] : [.. due.Select(n => new[] { "copy", n })];
        foreach (var run in due.Count == 0 ? [] : runs)
        {
            try
            {
                await launcher.RunWorkerAsync([.. common, .. run], cancellationToken, progress).ConfigureAwait(false);
            }
            catch (Backy.Storage.BackyException e) when (!cancellationToken.IsCancellationRequested)
            {
                LogCopyFailed(logger, job, e.Message);
            }
        }
    }

    [LoggerMessage(EventId = 4203, Level = LogLevel.Information, Message = "copy of {Job} to {Target} skipped: {Failures} failed attempt(s) in a row, next try at the first run after {NextAttempt:u}")]
    private static partial void LogCopyBackedOff(ILogger logger, string job, string target, int failures, DateTime nextAttempt);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "copy of {Job} failed (the backup is not affected): {Reason}")]
    private static partial void LogCopyFailed(ILogger logger, string job, string reason);

    [LoggerMessage(EventId = 4200, Level = LogLevel.Information, Message = "backing up {Job} with tags {Tags}")]
    private static partial void LogBackup(ILogger logger, string job, string tags);
}

using System.Text;
using Backy.Storage.Chunks;
using Backy.Storage.Locks;
using Backy.Tests.Storage.Support;
using CliWrap;

namespace Backy.Tests.Storage;

/// <summary>Locks between real processes: this test process holds what a running backup or restore holds.</summary>
public class ConcurrencyTests
{
    [Test, CancelAfter(60_000)]
    public async Task Second_backup_fails_at_once_with_a_clear_message(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 1000);
        using var running = JobLocks.AcquireBackup(t.JobPath, "back up"); // a backup in progress

        var second = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");

        Assert.That(second.ExitCode, Is.EqualTo(1));
        Assert.That(second.StdErr.Trim(), Does.StartWith("backy-worker: cannot back up job").And.Contain("another backup"));
        Assert.That(t.Job.LoadRevisions(), Is.Empty);
    }

    [Test, CancelAfter(60_000)]
    public async Task Restore_works_while_a_backup_runs(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, Blocks.Size + 3, seed: 4);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        using var backupLock = JobLocks.AcquireBackup(t.JobPath, "back up");
        using var purgeShared = await JobLocks.AcquirePurgeSharedAsync(t.JobPath, ct); // exactly what a backup holds

        var restore = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", t.PathIn("out"));

        Assert.That(restore.ExitCode, Is.Zero, restore.StdErr);
        Assert.That(TestJob.Sha(t.PathIn("out")), Is.EqualTo(TestJob.Sha(t.ImagePath)));
    }

    [Test, CancelAfter(60_000)]
    public async Task Purge_waits_for_a_running_restore(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 1000);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var restoreLock = await JobLocks.AcquirePurgeSharedAsync(t.JobPath, ct); // what a restore holds
        var (purge, stderr) = await WorkerProcess.StartWaitingPurgeAsync(t.JobPath, ct);
        Assert.That(purge.Task.IsCompleted, Is.False, "purge must not finish while the restore runs");
        restoreLock.Dispose();
        var result = await purge;

        Assert.That(result.ExitCode, Is.Zero, stderr.ToString());
        Assert.That(stderr.ToString(), Does.Contain("Purge:"));
    }
}

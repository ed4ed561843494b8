using System.Text;
using Backy.Storage.Chunks;
using Backy.Storage.Jobs;
using Backy.Storage.Locks;
using Backy.Tests.Storage.Support;
using CliWrap;

namespace Backy.Tests.Reliability;

/// <summary>
/// The lock files <c>.backup</c> and <c>.purge</c> deleted while a command holds them. This test process holds
/// exactly what a running command holds (the same <see cref="JobLocks"/> calls the worker makes), deletes the
/// lock file, and starts a real worker: it must still be kept out. Before the fix the worker created a new lock
/// file, locked that and ran beside the holder.
/// </summary>
public class LockFileDeletionTests
{
    static async Task<TestJob> JobWithOneRevisionAsync(CancellationToken ct)
    {
        var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, Blocks.Size + 5, seed: 12);
        var backup = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(backup.ExitCode, Is.Zero, backup.StdErr);
        return t;
    }

    [Test]
    public void The_backup_lock_holds_after_its_file_is_deleted_and_is_free_again_after_release()
    {
        using var t = new TestJob();
        var held = JobLocks.AcquireBackup(t.JobPath, "back up");
        File.Delete(Path.Combine(t.JobPath, JobLayout.BackupLockName));

        Assert.That(JobLocks.TryAcquireBackup(t.JobPath), Is.Null);
        held.Dispose();
        using var again = JobLocks.TryAcquireBackup(t.JobPath);
        Assert.That(again, Is.Not.Null);
        Assert.That(File.Exists(Path.Combine(t.JobPath, JobLayout.BackupLockName)), Is.True, "the lock file is there again");
    }

    [Test]
    public async Task The_purge_lock_holds_after_its_file_is_deleted(CancellationToken ct)
    {
        using var t = new TestJob();
        using (await JobLocks.AcquirePurgeSharedAsync(t.JobPath, ct))
        {
            File.Delete(Path.Combine(t.JobPath, JobLayout.PurgeLockName));
            Assert.That(JobLocks.TryAcquirePurgeExclusive(t.JobPath), Is.Null);
            using var shared = await JobLocks.AcquirePurgeSharedAsync(t.JobPath, ct);
            Assert.That(shared, Is.Not.Null, "shared holders still share");
        }
        using var exclusive = JobLocks.TryAcquirePurgeExclusive(t.JobPath);
        Assert.That(exclusive, Is.Not.Null);
    }

    /// <summary>Every command that takes the backup lock refuses at once, with the lock message, and changes nothing.</summary>
    [TestCase("backup", "daily")]
    [TestCase("expire")]
    [TestCase("tags", "add", "last", "weekly")]
    [TestCase("verify", "-r", "last")]
    [TestCase("forget", "-r", "last")]
    [CancelAfter(120_000), Category("Slow")]
    public async Task With_the_backup_lock_file_deleted_a_second_command_still_cannot_change_the_job(string command, params string[] args)
    {
        var ct = TestContext.CurrentContext.CancellationToken;
        using var t = await JobWithOneRevisionAsync(ct);
        var rev = File.ReadAllText(t.Job.RevisionPath(t.Job.CompleteRevisions().Single().Id));
        using var running = JobLocks.AcquireBackup(t.JobPath, "back up"); // a backup in progress
        File.Delete(Path.Combine(t.JobPath, JobLayout.BackupLockName));

        var second = await WorkerProcess.RunAsync(t.JobPath, ct, [command, .. args]);

        Assert.That(second.ExitCode, Is.EqualTo(1), second.StdErr);
        Assert.That(second.StdErr, Does.Contain("another backup or revision change is running"));
        var revisions = t.Job.LoadRevisions();
        Assert.That(revisions, Has.Count.EqualTo(1), "no revision added or removed");
        Assert.That(File.ReadAllText(t.Job.RevisionPath(revisions[0].Id)), Is.EqualTo(rev), "the revision is unchanged");
    }

    [Test, CancelAfter(120_000), Category("Slow")]
    public async Task With_the_purge_lock_file_deleted_purge_still_waits_for_a_running_backup(CancellationToken ct)
    {
        using var t = await JobWithOneRevisionAsync(ct);
        var chunks = t.ChunkFiles();
        var backupLock = JobLocks.AcquireBackup(t.JobPath, "back up");
        var purgeShared = await JobLocks.AcquirePurgeSharedAsync(t.JobPath, ct); // exactly what a backup holds
        // A chunk the running backup has written but no chunk map references yet: purge must not see it as garbage.
        var pending = Path.Combine(t.Job.Chunks.Directory, "ab", "ab" + new string('0', 30));
        Directory.CreateDirectory(Path.GetDirectoryName(pending)!);
        File.WriteAllBytes(pending, [1, 2, 3]);
        File.Delete(Path.Combine(t.JobPath, JobLayout.PurgeLockName));
        File.Delete(Path.Combine(t.JobPath, JobLayout.BackupLockName));
        var (purge, stderr) = await WorkerProcess.StartWaitingPurgeAsync(t.JobPath, ct);
        Assert.That(purge.Task.IsCompleted, Is.False, "purge must not run while the backup does");
        Assert.That(File.Exists(pending), Is.True);
        purgeShared.Dispose();
        backupLock.Dispose();
        var result = await purge;

        Assert.That(result.ExitCode, Is.Zero, stderr.ToString());
        Assert.That(File.Exists(pending), Is.False, "after the backup, an unreferenced chunk is garbage");
        Assert.That(t.ChunkFiles().Keys, Is.EquivalentTo(chunks.Keys));
    }
}

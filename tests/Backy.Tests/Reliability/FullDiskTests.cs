using Backy.Storage.Chunks;
using Backy.Storage.IO;
using Backy.Storage.Jobs;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Reliability;

/// <summary>
/// Running out of space for real: the job directory (or the restore target) on a small tmpfs or ext4 (on a loop
/// device: delayed allocation and block reservations, what backup servers run), filled up, and the real worker. A failed command says "no space left on device" with the path in one line and leaves nothing
/// half-done; what was there before stays intact; freeing space is all it takes to continue.
/// </summary>
[Category("Slow")]
public class FullDiskTests
{
    const long MiB = 1024 * 1024;

    /// <summary>An incompressible image of 3 blocks, so every backup of a new image needs about 12 MiB.</summary>
    static byte[] WriteImage(string path, int seed)
    {
        var image = new byte[3 * Blocks.Size];
        new Random(seed).NextBytes(image);
        File.WriteAllBytes(path, image);
        return TestJob.Sha(path);
    }

    static string CreateJob(string directory, string imagePath)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config"),
            $"source:\n  type: file\n  filename: {imagePath}\nschedule:\n  daily: {{interval: 1d, keep: 7}}\n");
        return directory;
    }

    /// <summary>Exit 1, one error line (no stack trace) naming ENOSPC and a path under <paramref name="under"/>.</summary>
    static void AssertNoSpaceError(WorkerProcess.Result r, string under)
    {
        TestContext.Out.WriteLine(r.StdErr);
        Assert.That(r.ExitCode, Is.EqualTo(1), r.StdErr);
        var errors = r.StdErr.Split('\n').Where(l => l.StartsWith("backy-worker:", StringComparison.Ordinal)).ToList();
        Assert.That(errors, Has.Count.EqualTo(1), r.StdErr);
        Assert.That(errors[0], Does.Contain("no space left on device").IgnoreCase.And.Contain(under));
        Assert.That(r.StdErr, Does.Not.Contain("   at ").And.Not.Contain("Unhandled"), "no stack trace");
    }

    static List<string> TempFiles(string directory) =>
        Directory.EnumerateFiles(directory, "*" + DurableFile.TempSuffix, SearchOption.AllDirectories).ToList();

    /// <param name="freeMiB">Space left: 0 (nothing fits, not even the new .rev or a log line) or 5 (the .rev and
    /// some chunks fit, the rest does not).</param>
    [TestCase(0, SmallFileSystemKind.Tmpfs), TestCase(5, SmallFileSystemKind.Tmpfs)]
    [TestCase(0, SmallFileSystemKind.Ext4), TestCase(5, SmallFileSystemKind.Ext4)]
    [CancelAfter(240_000)]
    public async Task A_backup_onto_a_full_file_system_fails_cleanly_and_the_next_succeeds_once_space_is_freed(int freeMiB, SmallFileSystemKind kind, CancellationToken ct)
    {
        using var fs = SmallFileSystem.MountOrIgnore(40 * MiB, kind);
        using var outside = new TestJob(); // only for its temp directory: image and restore targets
        var image = outside.PathIn("image-big");
        var jobPath = CreateJob(Path.Combine(fs.Path, "job"), image);
        var job = new JobDirectory(jobPath);
        var sha1 = WriteImage(image, seed: 1);
        var first = await WorkerProcess.RunAsync(jobPath, ct, "backup", "daily");
        Assert.That(first.ExitCode, Is.Zero, first.StdErr);
        var rev1 = job.CompleteRevisions().Single().Id;
        var sha2 = WriteImage(image, seed: 2);
        // The log file ends on a page (block) boundary: its next line needs a new one, which a full file system refuses.
        using (var log = new FileStream(job.DefaultLogPath, FileMode.Append))
            log.Write(new byte[4096 - log.Length % 4096]);
        var filler = fs.Fill(freeMiB * MiB);

        var failed = await WorkerProcess.RunAsync(jobPath, ct, "backup", "daily");

        AssertNoSpaceError(failed, fs.Path);
        if (freeMiB == 0)
            Assert.That(failed.StdErr, Does.Contain($"warning: cannot write log file '{job.DefaultLogPath}': No space left on device"));

        Assert.That(TempFiles(jobPath), Is.Empty, "temp files removed");
        Assert.That(job.LoadRevisions().Select(r => (r.Id, r.IsComplete)), Is.EqualTo(new[] { (rev1, true) }), "no incomplete revision left");
        var restored = outside.PathIn("restored-1");
        var restore = await WorkerProcess.RunAsync(jobPath, ct, "restore", "-r", rev1, restored);
        Assert.That(restore.ExitCode, Is.Zero, "restoring from a full file system works: " + restore.StdErr);
        Assert.That(TestJob.Sha(restored), Is.EqualTo(sha1));

        File.Delete(filler);
        var verify = await WorkerProcess.RunAsync(jobPath, ct, "verify", "-r", rev1);
        Assert.That(verify.ExitCode, Is.Zero, verify.StdErr);
        var next = await WorkerProcess.RunAsync(jobPath, ct, "backup", "daily");
        Assert.That(next.ExitCode, Is.Zero, next.StdErr);
        Assert.That(job.LoadRevisions().All(r => r.IsComplete), Is.True);
        var rev2 = job.CompleteRevisions().Single(r => r.Id != rev1).Id;
        restore = await WorkerProcess.RunAsync(jobPath, ct, "restore", "-r", rev2, restored);
        Assert.That(restore.ExitCode, Is.Zero, restore.StdErr);
        Assert.That(TestJob.Sha(restored), Is.EqualTo(sha2));
    }

    [TestCase(SmallFileSystemKind.Tmpfs), TestCase(SmallFileSystemKind.Ext4)]
    [CancelAfter(120_000)]
    public async Task A_restore_to_a_full_target_fails_with_one_line_and_removes_the_partial_file(SmallFileSystemKind kind, CancellationToken ct)
    {
        using var fs = SmallFileSystem.MountOrIgnore(6 * MiB, kind);
        using var t = new TestJob();
        var sha = WriteImage(t.ImagePath, seed: 3);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var target = Path.Combine(fs.Path, "restored");

        AssertNoSpaceError(await WorkerProcess.RunAsync(t.JobPath, ct, "restore", target), target);

        Assert.That(File.Exists(target), Is.False, "a partial image is not left behind as if it were the backup");
        var elsewhere = t.PathIn("restored");
        var restore = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", elsewhere);
        Assert.That(restore.ExitCode, Is.Zero, restore.StdErr);
        Assert.That(TestJob.Sha(elsewhere), Is.EqualTo(sha));
    }
}

using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Storage;

/// <summary><c>restore --changed-only</c> into files, through the real <c>backy-worker</c>.</summary>
public class ChangedRestoreTests
{
    [Test, CancelAfter(120_000)]
    public async Task Changed_only_restore_writes_only_differing_blocks_and_leaves_the_file_identical(CancellationToken ct)
    {
        using var t = new TestJob();
        var size = 7L * Blocks.Size + 4321;
        TestImages.WriteMixed(t.ImagePath, size, seed: 5);
        TestImages.Poke(t.ImagePath, TestImages.Block(1) + 10, seed: 1);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var expected = File.ReadAllBytes(t.ImagePath);
        var target = t.PathIn("disk");

        // A missing file: every block that holds data differs.
        var first = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "--changed-only", target);
        Assert.That(first.ExitCode, Is.Zero, first.StdErr);
        Assert.That(File.ReadAllBytes(target), Is.EqualTo(expected));

        // Roll the "disk" back after two blocks changed (one of them the short last block) and it grew.
        TestImages.Poke(target, TestImages.Block(1) + 100, seed: 42);
        TestImages.Poke(target, size - 10, seed: 43, length: 10);
        await using (var f = new FileStream(target, FileMode.Append)) f.Write(new byte[] { 1, 2, 3 });
        var second = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "--changed-only", target);
        Assert.That(second.ExitCode, Is.Zero, second.StdErr);
        Assert.That(second.StdOut, Does.Contain("2 of 8 blocks differed"));
        Assert.That(File.ReadAllBytes(target), Is.EqualTo(expected));

        var third = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "--changed-only", target);
        Assert.That(third.StdOut, Does.Contain("0 of 8 blocks differed"));
    }

    [Test, CancelAfter(120_000)]
    public async Task Changed_only_restore_zeroes_blocks_that_are_holes_in_the_revision(CancellationToken ct)
    {
        using var t = new TestJob();
        await using (var f = File.Create(t.ImagePath)) f.SetLength(3L * Blocks.Size);
        TestImages.Poke(t.ImagePath, 5);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var target = t.PathIn("disk");
        File.Copy(t.ImagePath, target);
        TestImages.Poke(target, TestImages.Block(2) + 7, seed: 9);   // data where the revision has a hole

        var r = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "--changed-only", target);
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        Assert.That(r.StdOut, Does.Contain("1 of 3 blocks differed"));
        Assert.That(File.ReadAllBytes(target), Is.EqualTo(File.ReadAllBytes(t.ImagePath)));
    }

    [Test, CancelAfter(60_000)]
    public async Task Changed_only_restore_refuses_stdout(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, Blocks.Size);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var r = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "--changed-only", "-");
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.StdErr, Does.Contain("--changed-only needs a target it can read back"));
    }
}

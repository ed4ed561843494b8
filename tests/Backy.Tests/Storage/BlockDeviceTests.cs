using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Storage;

/// <summary>
/// A real block device (a loop device) as the file source and as the restore target, full and --changed-only,
/// through the real <c>backy-worker</c>. The devices are detached in [TearDown], also when a test fails.
/// </summary>
[NonParallelizable]
public class BlockDeviceTests
{
    // Six blocks and a short seventh: a multiple of 512 bytes, as a loop device's size must be.
    private const long Size = 6L * Blocks.Size + 8192;

    private readonly List<LoopDevice> _devices = [];
    private TestJob? _job;

    [TearDown]
    public void DetachDevices()
    {
        foreach (var device in _devices) device.Detach();
        _devices.Clear();
        _job?.Dispose();
        _job = null;
    }

    private async Task<LoopDevice> AttachAsync(string name, CancellationToken ct)
    {
        var device = await LoopDevice.AttachOrIgnoreAsync(_job!.PathIn(name), Size, ct);
        _devices.Add(device);
        return device;
    }

    [Test, CancelAfter(180_000)]
    public async Task A_loop_device_backs_up_and_restores_into_another_one_fully_and_changed_only(CancellationToken ct)
    {
        _job = new TestJob();
        var source = await AttachAsync("source.img", ct);
        // The job backs up the device, not a file.
        File.WriteAllText(Path.Combine(_job.JobPath, "config"),
            $"source:\n  type: file\n  filename: {source.Path}\nschedule:\n  daily: {{interval: 1d, keep: 7}}\n");
        var content = new byte[Size];
        var rnd = new Random(11);
        rnd.NextBytes(content.AsSpan(100, 2 * Blocks.Size));                            // blocks 0-2
        rnd.NextBytes(content.AsSpan((int)(4 * Blocks.Size + 77), 5000));              // block 4; block 3 and 5 stay zero
        rnd.NextBytes(content.AsSpan((int)(Size - 8192)));                             // the short last block
        source.Write(0, content);

        var backup = await WorkerProcess.RunAsync(_job.JobPath, ct, "backup", "daily");
        Assert.That(backup.ExitCode, Is.Zero, backup.StdErr);
        var revision = _job.Job.CompleteRevisions().Single();
        Assert.That(_job.Job.ReadChunkMap(revision).ImageSize, Is.EqualTo(Size), "the device's size (found by seeking to its end)");
        var streamed = await WorkerProcess.RunBinaryAsync(_job.JobPath, ct, "restore", "-r", revision.Id, "-");
        Assert.That(streamed.ExitCode, Is.Zero, streamed.StdErr);
        Assert.That(streamed.StdOut, Is.EqualTo(content));

        // Full restore into a second device holding other data.
        var target = await AttachAsync("target.img", ct);
        target.Write(3 * Blocks.Size, new byte[] { 9, 9, 9 });                            // data where the revision has zeroes
        var full = await WorkerProcess.RunAsync(_job.JobPath, ct, "restore", "-r", revision.Id, target.Path);
        Assert.That(full.ExitCode, Is.Zero, full.StdErr);
        Assert.That(target.ReadAll(), Is.EqualTo(content));

        // The "disk" changes in two blocks (one of them the short last one): changed-only writes just those.
        target.Write(Blocks.Size + 4096, new byte[4096]);
        target.Write(Size - 100, [1, 2, 3]);
        var changed = await WorkerProcess.RunAsync(_job.JobPath, ct, "restore", "-r", revision.Id, "--changed-only", target.Path);
        Assert.That(changed.ExitCode, Is.Zero, changed.StdErr);
        Assert.That(changed.StdOut, Does.Contain("2 of 7 blocks differed"));
        Assert.That(target.ReadAll(), Is.EqualTo(content));

        var again = await WorkerProcess.RunAsync(_job.JobPath, ct, "restore", "-r", revision.Id, "--changed-only", target.Path);
        Assert.That(again.StdOut, Does.Contain("0 of 7 blocks differed"));

        // An incremental backup of the device after a change stores only the changed block.
        var chunksBefore = _job.ChunkFiles().Keys.ToHashSet();
        var change = new byte[4096];
        rnd.NextBytes(change);
        source.Write(5 * Blocks.Size + 10, change);
        Assert.That((await WorkerProcess.RunAsync(_job.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        Assert.That(_job.ChunkFiles().Keys.Except(chunksBefore).Count(), Is.EqualTo(1));
    }
}

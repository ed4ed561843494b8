using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Storage;

/// <summary>
/// Restore targets through the real <c>backy-worker</c> (issue 13, item 7): what the target is comes from fstat of what
/// was opened, a reader that goes away is a failure, nothing the restore did not create is deleted, the chunk map is
/// read before the target is opened, and a bad target is one clear line.
/// </summary>
public class RestoreTargetTests
{
    /// <summary>A job with one revision of a 2-block-and-a-bit image (two chunks and a tail, ~30% zeros).</summary>
    sealed class OneRevision : IDisposable
    {
        public readonly TestJob T = new();
        public string Id = "";
        public byte[] Sha = [];
        public long Size => new FileInfo(T.ImagePath).Length;

        public async Task CreateAsync(CancellationToken ct)
        {
            TestImages.WriteMixed(T.ImagePath, 2L * Blocks.Size + 12345, seed: 5);
            Sha = TestJob.Sha(T.ImagePath);
            var b = await WorkerProcess.RunAsync(T.JobPath, ct, "backup", "daily");
            Assert.That(b.ExitCode, Is.Zero, b.StdErr);
            Id = T.Job.CompleteRevisions().Single().Id;
        }

        /// <summary>Flips a byte in the chunk of the image's second block: a restore fails there.</summary>
        public void CorruptSecondBlock()
        {
            var map = T.Job.ReadChunkMap(T.Job.CompleteRevisions().Single());
            var path = T.Job.Chunks.PathOf(map.Entries.Skip(1).First(e => e != default));
            new FileInfo(path).IsReadOnly = false;
            var bytes = File.ReadAllBytes(path);
            bytes[^10] ^= 0x40;
            File.WriteAllBytes(path, bytes);
        }

        public Task<WorkerProcess.Result> RestoreAsync(string target, CancellationToken ct) =>
            WorkerProcess.RunAsync(T.JobPath, ct, "restore", "-r", Id, target);

        public void Dispose() => T.Dispose();
    }

    static List<string> ErrorLines(WorkerProcess.Result r) =>
        r.StdErr.Split('\n').Where(l => l.StartsWith("backy-worker:", StringComparison.Ordinal)).ToList();

    /// <summary>Exit 1 with exactly one error line, which contains <paramref name="text"/>; no stack trace.</summary>
    static string AssertOneLineError(WorkerProcess.Result r, string text)
    {
        Assert.That(r.ExitCode, Is.EqualTo(1), r.StdErr);
        var errors = ErrorLines(r);
        Assert.That(errors, Has.Count.EqualTo(1), r.StdErr);
        Assert.That(errors[0], Does.Contain(text));
        Assert.That(r.StdErr, Does.Not.Contain("   at ").And.Not.Contain("Exception"), "one line, no exception type or stack trace");
        return errors[0];
    }

    [Test, CancelAfter(120_000)]
    public async Task A_reader_that_closes_the_pipe_early_is_exit_1_naming_the_bytes_delivered(CancellationToken ct)
    {
        using var j = new OneRevision();
        await j.CreateAsync(ct);

        // The real shell pipeline of the issue: head reads 10 bytes and exits; the worker's next write gets EPIPE.
        var script = $"'{WorkerProcess.Path}' -b '{j.T.JobPath}' restore -r {j.Id} - | head -c 10 > /dev/null; echo \"exit=${{PIPESTATUS[0]}}\"";
        var r = await CliWrap.Cli.Wrap("bash").WithArguments(["-c", script]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(ct);

        Assert.That(r.StandardOutput.Trim(), Is.EqualTo("exit=1"), r.StandardError);
        Assert.That(r.StandardError, Does.Match("backy-worker: cannot write restore target stdout: the reader closed the pipe after [0-9]+ bytes"));
        Assert.That(r.StandardError, Does.Not.Contain("finished"), "not logged as a finished restore");
    }

    [Test, CancelAfter(120_000)]
    public async Task Restore_to_stdout_through_a_pipe_is_the_image(CancellationToken ct)
    {
        using var j = new OneRevision();
        await j.CreateAsync(ct);
        var (exit, image, stderr) = await WorkerProcess.RunBinaryAsync(j.T.JobPath, ct, "restore", "-r", j.Id, "-");
        Assert.That(exit, Is.Zero, stderr);
        Assert.That(System.Security.Cryptography.SHA256.HashData(image), Is.EqualTo(j.Sha));
    }

    [Test, CancelAfter(120_000)]
    public async Task Dev_null_and_a_symlink_to_it_are_character_devices_and_the_link_stays(CancellationToken ct)
    {
        using var j = new OneRevision();
        await j.CreateAsync(ct);
        var link = j.T.PathIn("null-link");
        File.CreateSymbolicLink(link, "/dev/null");

        var direct = await j.RestoreAsync("/dev/null", ct);
        var linked = await j.RestoreAsync(link, ct);

        Assert.That(direct.ExitCode, Is.Zero, direct.StdErr);
        Assert.That(linked.ExitCode, Is.Zero, linked.StdErr);
        Assert.That(new FileInfo(link).LinkTarget, Is.EqualTo("/dev/null"), "the operator's link is untouched");
    }

    [Test, CancelAfter(120_000)]
    public async Task A_symlink_to_a_block_device_is_restored_through_and_kept(CancellationToken ct)
    {
        using var j = new OneRevision();
        await j.CreateAsync(ct);
        var backing = j.T.PathIn("disk.img");
        File.WriteAllBytes(backing, Enumerable.Repeat((byte)0xAA, 16 << 20).ToArray()); // old content: zero blocks must overwrite it
        var attach = await CliWrap.Cli.Wrap("losetup").WithArguments(["-f", "--show", backing]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(ct);
        if (attach.ExitCode != 0) Assert.Ignore($"no loop device here: {attach.StandardError.Trim()}");
        var device = attach.StandardOutput.Trim();
        try
        {
            var link = j.T.PathIn("disk-link");
            File.CreateSymbolicLink(link, device);

            var r = await j.RestoreAsync(link, ct);

            Assert.That(r.ExitCode, Is.Zero, r.StdErr);
            Assert.That(new FileInfo(link).LinkTarget, Is.EqualTo(device), "the link is kept");
            await using var dev = File.OpenRead(device);
            var written = new byte[j.Size];
            dev.ReadExactly(written);
            Assert.That(System.Security.Cryptography.SHA256.HashData(written), Is.EqualTo(j.Sha), "the device holds the image, zero blocks written");
        }
        finally
        {
            await CliWrap.Cli.Wrap("losetup").WithArguments(["-d", device]).WithValidation(CommandResultValidation.None).ExecuteAsync(CancellationToken.None);
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task An_existing_longer_file_is_cut_to_the_image_size(CancellationToken ct)
    {
        using var j = new OneRevision();
        await j.CreateAsync(ct);
        // Under /dev/shm too: a name below /dev/ is no device.
        var dirs = new[] { j.T.Root, "/dev/shm" }.Where(Directory.Exists);
        foreach (var dir in dirs)
        {
            var target = Path.Combine(dir, $"backy-restore-{Guid.NewGuid():N}");
            try
            {
                File.WriteAllBytes(target, new byte[3 * j.Size].Select(_ => (byte)0xAA).ToArray());
                var r = await j.RestoreAsync(target, ct);
                Assert.That(r.ExitCode, Is.Zero, r.StdErr);
                Assert.That(new FileInfo(target).Length, Is.EqualTo(j.Size), $"no old tail in {dir}");
                Assert.That(TestJob.Sha(target), Is.EqualTo(j.Sha), $"holes read as zeros in {dir}");
            }
            finally { File.Delete(target); }
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task A_failing_restore_removes_the_file_it_created_but_never_a_link_or_an_existing_file(CancellationToken ct)
    {
        using var j = new OneRevision();
        await j.CreateAsync(ct);
        j.CorruptSecondBlock();
        var fresh = j.T.PathIn("fresh");
        var existing = j.T.PathIn("existing");
        File.WriteAllText(existing, "the operator's file");
        var link = j.T.PathIn("link");
        File.CreateSymbolicLink(link, existing);

        var intoFresh = await j.RestoreAsync(fresh, ct);
        var throughLink = await j.RestoreAsync(link, ct);
        var intoExisting = await j.RestoreAsync(existing, ct);

        Assert.That(AssertOneLineError(intoFresh, "cannot restore block 1"), Does.EndWith("the partial file was removed"));
        Assert.That(File.Exists(fresh), Is.False, "a file this restore created goes");
        Assert.That(AssertOneLineError(throughLink, "cannot restore block 1"), Does.EndWith($"'{link}' holds a partial image"));
        Assert.That(new FileInfo(link).LinkTarget, Is.EqualTo(existing), "the link stays");
        Assert.That(AssertOneLineError(intoExisting, "cannot restore block 1"), Does.EndWith($"'{existing}' holds a partial image"));
        Assert.That(File.Exists(existing), Is.True, "an existing file stays");
    }

    [Test, CancelAfter(120_000)]
    public async Task A_target_inside_the_job_directory_is_refused_before_anything_is_written(CancellationToken ct)
    {
        using var j = new OneRevision();
        await j.CreateAsync(ct);
        var map = j.T.Job.ChunkMapPath(j.Id);
        var mapBefore = File.ReadAllBytes(map);
        var link = j.T.PathIn("map-link");
        File.CreateSymbolicLink(link, map);

        var ownMap = await j.RestoreAsync(map, ct);
        var viaLink = await j.RestoreAsync(link, ct);
        var newFile = await j.RestoreAsync(Path.Combine(j.T.JobPath, "image.raw"), ct);

        Assert.That(AssertOneLineError(ownMap, "is inside the job directory"), Does.EndWith("would overwrite the backup itself"), "nothing was opened, so nothing is said to be partial");
        AssertOneLineError(viaLink, "is inside the job directory");
        AssertOneLineError(newFile, "is inside the job directory");
        Assert.That(File.ReadAllBytes(map), Is.EqualTo(mapBefore), "the chunk map is untouched");
        Assert.That(File.Exists(Path.Combine(j.T.JobPath, "image.raw")), Is.False);
        Assert.That(new FileInfo(link).LinkTarget, Is.EqualTo(map));
        var elsewhere = j.T.PathIn("restored");
        Assert.That((await j.RestoreAsync(elsewhere, ct)).ExitCode, Is.Zero);
        Assert.That(TestJob.Sha(elsewhere), Is.EqualTo(j.Sha));
    }

    [Test, CancelAfter(120_000)]
    public async Task A_directory_or_an_empty_target_is_one_clear_line(CancellationToken ct)
    {
        using var j = new OneRevision();
        await j.CreateAsync(ct);

        var empty = await j.RestoreAsync("", ct);
        var directory = await j.RestoreAsync(j.T.Root, ct);

        AssertOneLineError(empty, "restore target is empty");
        AssertOneLineError(directory, $"restore target '{j.T.Root}' is a directory");
        Assert.That(empty.StdErr + directory.StdErr, Does.Not.Contain("Access").And.Not.Contain("Argument"));
    }
}

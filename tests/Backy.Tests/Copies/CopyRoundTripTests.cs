using Backy.Storage.Chunks;
using Backy.Storage.Copies;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Copies;

[Category("Ceph")]
public class CopyRoundTripTests
{
    [Test, CancelAfter(300_000)]
    public async Task Every_revision_restores_bit_identically_from_the_bucket_after_the_job_directory_is_gone(CancellationToken ct)
    {
        using var job = await CopyJob.CreateAsync(ct);
        var shas = new Dictionary<string, byte[]>();
        // Odd size, holes, a block crossing the 4 MiB boundary; each backup changes a few blocks.
        TestImages.WriteMixed(job.Local.ImagePath, 5L * Blocks.Size + 12345, seed: 3);
        for (var i = 0; i < 3; i++)
        {
            if (i > 0) TestImages.Poke(job.Local.ImagePath, TestImages.Block(i) + 100, seed: i);
            Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
            shas[job.Local.Job.CompleteRevisions()[^1].Id] = TestJob.Sha(job.Local.ImagePath);
        }
        var copy = await job.Worker(ct, "copy");
        Assert.That(copy.ExitCode, Is.Zero, copy.StdErr);
        Assert.That(copy.StdOut, Does.Contain("offsite: 3 revision(s)"));

        Directory.Delete(job.JobPath, recursive: true);

        var status = await CopyJob.FromAsync(ct, null, "status", "--from", job.Url);
        Assert.That(status.ExitCode, Is.Zero, status.StdErr);
        foreach (var (id, sha) in shas)
        {
            Assert.That(status.StdOut, Does.Contain(id));
            var target = job.Local.PathIn("restored-" + id);
            var r = await CopyJob.FromAsync(ct, null, "restore", "--from", job.Url, "-r", id, target);
            Assert.That(r.ExitCode, Is.Zero, r.StdErr);
            Assert.That(TestJob.Sha(target), Is.EqualTo(sha), $"revision {id}");
        }
        var verify = await CopyJob.FromAsync(ct, null, "verify", "--from", job.Url);
        Assert.That(verify.ExitCode, Is.Zero, verify.StdErr);
    }

    [Test, CancelAfter(300_000)]
    public async Task A_second_copy_uploads_only_the_new_chunks(CancellationToken ct)
    {
        using var job = await CopyJob.CreateAsync(ct);
        TestImages.WriteMixed(job.Local.ImagePath, 6L * Blocks.Size, seed: 4);
        Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
        var target = JobCopies.Load(job.Local.Job.ConfigPath)["offsite"];

        var first = new CountingStore(job.Store);
        var r1 = await new CopyEngine(job.Local.Job, target, new CopyRepository(first, target.JobPrefix("job"), CopyCipher.None),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeProvider.System).CopyAsync(ct);
        var firstChunks = job.Local.Job.CompleteRevisions()[0] is var rev0 ? job.Local.Job.ReadChunkMap(rev0).ReferencedChunks().Count() : 0;
        Assert.That(first.ChunkPuts, Is.EqualTo(firstChunks));
        Assert.That(r1.Chunks, Is.EqualTo(firstChunks));

        TestImages.Poke(job.Local.ImagePath, TestImages.Block(2) + 7, seed: 9);
        Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
        var second = new CountingStore(job.Store);
        await new CopyEngine(job.Local.Job, target, new CopyRepository(second, target.JobPrefix("job"), CopyCipher.None),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeProvider.System).CopyAsync(ct);
        Assert.That(second.ChunkPuts, Is.EqualTo(1), "one block changed: one new chunk");
        Assert.That(second.Puts, Is.EqualTo(4), "the chunk, the pending map, the map and the .rev");

        // Nothing new: a third copy lists and uploads nothing.
        var third = new CountingStore(job.Store);
        await new CopyEngine(job.Local.Job, target, new CopyRepository(third, target.JobPrefix("job"), CopyCipher.None),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeProvider.System).CopyAsync(ct);
        Assert.That(third.Puts, Is.Zero);
    }

    [Test, CancelAfter(300_000)]
    public async Task A_lost_record_is_rebuilt_from_a_listing_and_nothing_is_uploaded_twice(CancellationToken ct)
    {
        using var job = await CopyJob.CreateAsync(ct);
        TestImages.WriteMixed(job.Local.ImagePath, 4L * Blocks.Size, seed: 5);
        Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
        Assert.That((await job.Worker(ct, "copy")).ExitCode, Is.Zero);
        File.Delete(Path.Combine(job.JobPath, "copies", "offsite.chunks"));
        TestImages.Poke(job.Local.ImagePath, 10, seed: 2);
        Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
        var copy = await job.Worker(ct, "copy");
        Assert.That(copy.ExitCode, Is.Zero, copy.StdErr);
        Assert.That(copy.StdOut, Does.Contain("1 revision(s), 1 chunk(s)"));
        Assert.That(copy.StdErr, Does.Contain("rebuilt from a listing"));
    }

    [Test, CancelAfter(300_000)]
    public async Task A_damaged_chunk_object_is_found_by_verify_from(CancellationToken ct)
    {
        using var job = await CopyJob.CreateAsync(ct);
        TestImages.WriteMixed(job.Local.ImagePath, 3L * Blocks.Size, seed: 8);
        Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
        Assert.That((await job.Worker(ct, "copy")).ExitCode, Is.Zero);
        var chunk = (await job.KeysAsync(ct, "chunks/")).First();
        var key = job.Prefix + "job/" + chunk;
        var bytes = (await job.Store.GetAsync(key, ct))!;
        bytes[^1] ^= 0x55;
        await job.Store.PutAsync(key, bytes, null, ct);

        var verify = await CopyJob.FromAsync(ct, null, "verify", "--from", job.Url);
        Assert.That(verify.ExitCode, Is.EqualTo(1));
        Assert.That(verify.StdErr, Does.Contain(chunk[(chunk.LastIndexOf('/') + 1)..]).And.Contain("problem"));
        var restore = await CopyJob.FromAsync(ct, null, "restore", "--from", job.Url, job.Local.PathIn("r"));
        Assert.That(restore.ExitCode, Is.EqualTo(1));
        Assert.That(File.Exists(job.Local.PathIn("r")), Is.False, "a partial image is removed");
    }
}

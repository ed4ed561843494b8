using Amazon.S3;
using Amazon.S3.Model;
using Backy.Storage.Chunks;
using Backy.Storage.Copies;
using Backy.Tests.Schedules;
using Backy.Tests.Storage.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backy.Tests.Copies;

[Category("Ceph")]
public class CopyRetentionTests
{
    private static async Task<CopyResult> CopyAt(CopyJob job, DateTimeOffset now, CancellationToken ct)
    {
        var target = JobCopies.Load(job.Local.Job.ConfigPath)["offsite"];
        var repository = new CopyRepository(job.Store, target.JobPrefix("job"), CopyCipher.None);
        return await new CopyEngine(job.Local.Job, target, repository, NullLogger.Instance, new FakeClock(now)).CopyAsync(ct);
    }

    private static async Task<List<string>> BackupsAsync(CopyJob job, int count, CancellationToken ct)
    {
        TestImages.WriteMixed(job.Local.ImagePath, 3L * Blocks.Size, seed: 21);
        for (var i = 0; i < count; i++)
        {
            if (i > 0) TestImages.Poke(job.Local.ImagePath, TestImages.Block(i % 3) + 11, seed: 30 + i);
            Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
        }
        return job.Local.Job.CompleteRevisions().Select(r => r.Id).ToList();
    }

    [Test, CancelAfter(300_000)]
    public async Task The_copy_expires_by_the_schedule_on_its_own_revisions_never_by_a_local_forget(CancellationToken ct)
    {
        using var job = await CopyJob.CreateAsync(ct);
        File.WriteAllText(job.Local.Job.ConfigPath, File.ReadAllText(job.Local.Job.ConfigPath).Replace("keep: 7", "keep: 1", StringComparison.Ordinal));
        var ids = await BackupsAsync(job, 3, ct);
        var first = await job.Worker(ct, "copy");
        Assert.That(first.ExitCode, Is.Zero, first.StdErr);

        // A local forget does not reach the copy.
        Assert.That((await job.Worker(ct, "forget", "-r", ids[0])).ExitCode, Is.Zero);
        var again = await job.Worker(ct, "copy");
        Assert.That(again.ExitCode, Is.Zero, again.StdErr);
        Assert.That(again.StdOut, Does.Contain("0 revision(s)").And.Contain("; 3 in the copy; 0 expired"));

        // Ten days on, the schedule (daily, keep 1) lets the two older revisions go: in the copy too.
        var later = await CopyAt(job, DateTimeOffset.UtcNow.AddDays(10), ct);
        Assert.That(later.Expired, Is.EqualTo(2));
        Assert.That(later.RevisionsInCopy, Is.EqualTo(1));
        Assert.That(later.Purged, Is.GreaterThan(0), "the chunks only the expired revisions used are purged after the grace period");
        var keys = await job.KeysAsync(ct);
        Assert.That(keys.Where(k => k.EndsWith(".rev", StringComparison.Ordinal)), Is.EqualTo(new[] { ids[2] + ".rev" }));

        // Still known locally, the expired revision is not uploaded again; what is left is whole.
        var rerun = await job.Worker(ct, "copy");
        Assert.That(rerun.ExitCode, Is.Zero, rerun.StdErr);
        Assert.That(rerun.StdOut, Does.Contain("0 revision(s)").And.Contain("; 1 in the copy"));
        var verify = await CopyJob.FromAsync(ct, null, "verify", "--from", job.Url);
        Assert.That(verify.ExitCode, Is.Zero, verify.StdErr);
        var restored = job.Local.PathIn("restored");
        Assert.That((await CopyJob.FromAsync(ct, null, "restore", "--from", job.Url, restored)).ExitCode, Is.Zero);
        Assert.That(TestJob.Sha(restored), Is.EqualTo(TestJob.Sha(job.Local.ImagePath)));
    }

    [Test, CancelAfter(300_000)]
    public async Task Object_lock_refuses_early_deletes_and_expire_waits_for_the_lock(CancellationToken ct)
    {
        using var job = await CopyJob.CreateAsync(ct, "    object-lock-days: 2\n", objectLock: true);
        File.WriteAllText(job.Local.Job.ConfigPath, File.ReadAllText(job.Local.Job.ConfigPath).Replace("keep: 7", "keep: 1", StringComparison.Ordinal));
        await BackupsAsync(job, 2, ct);
        var copy = await job.Worker(ct, "copy");
        Assert.That(copy.ExitCode, Is.Zero, copy.StdErr);

        // The store itself refuses to delete a locked version (what ransomware with our credentials would try).
        var chunk = job.Prefix + "job/" + (await job.KeysAsync(ct, "chunks/")).First();
        var versions = await job.Store.Client.ListVersionsAsync(new ListVersionsRequest { BucketName = job.Bucket, Prefix = chunk }, ct);
        var version = versions.Versions.Single(v => v.Key == chunk);
        await Assert.ThrowsAsync<AmazonS3Exception>(() => job.Store.Client.DeleteObjectAsync(
            new DeleteObjectRequest { BucketName = job.Bucket, Key = chunk, VersionId = version.VersionId }, ct));
        Assert.That(await job.Store.GetAsync(chunk, ct), Is.Not.Null);

        // Expired by the schedule a day later, the older revision stays while its lock lasts, and goes after it.
        var during = await CopyAt(job, DateTimeOffset.UtcNow.AddDays(1), ct);
        Assert.That(during.Expired, Is.Zero);
        Assert.That(during.RevisionsInCopy, Is.EqualTo(2));
        var after = await CopyAt(job, DateTimeOffset.UtcNow.AddDays(3), ct);
        Assert.That(after.Expired, Is.EqualTo(1));
        Assert.That(after.RevisionsInCopy, Is.EqualTo(1));
    }

    [Test, CancelAfter(300_000)]
    public async Task A_reused_chunk_stays_locked_at_least_as_long_as_the_newest_revision_that_needs_it(CancellationToken ct)
    {
        using var job = await CopyJob.CreateAsync(ct, "    object-lock-days: 1\n", objectLock: true);
        var target = JobCopies.Load(job.Local.Job.ConfigPath)["offsite"];
        var counting = new CountingStore(job.Store);
        var repository = new CopyRepository(counting, target.JobPrefix("job"), CopyCipher.None);
        Task<CopyResult> Copy(DateTimeOffset now) =>
            new CopyEngine(job.Local.Job, target, repository, NullLogger.Instance, new FakeClock(now)).CopyAsync(ct);
        async Task<DateTimeOffset?> Retention(Backy.Storage.Chunks.ChunkId id) => await job.Store.GetRetentionAsync(repository.ChunkKey(id), ct);

        var start = DateTimeOffset.UtcNow;
        TestImages.WriteMixed(job.Local.ImagePath, 4L * Blocks.Size, seed: 41);
        Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
        await Copy(start);
        var first = job.Local.Job.ReadChunkMap(job.Local.Job.CompleteRevisions()[0]).ReferencedChunks().ToList();
        foreach (var id in first)
            Assert.That(await Retention(id), Is.GreaterThanOrEqualTo(start + TimeSpan.FromDays(1)), "locked as long as the revision at upload");
        Assert.That(counting.Extensions, Is.Zero);

        // Ten days later a new revision reuses all but one chunk: each reused one is locked for the new revision too.
        TestImages.Poke(job.Local.ImagePath, TestImages.Block(1) + 5, seed: 42);
        Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
        var later = start + TimeSpan.FromDays(10);
        await Copy(later);
        var second = job.Local.Job.CompleteRevisions()[^1];
        var chunks = job.Local.Job.ReadChunkMap(second).ReferencedChunks().ToList();
        var reused = chunks.Intersect(first).Count();
        Assert.That(reused, Is.GreaterThan(0).And.LessThan(chunks.Count), "the poked block is a new chunk, the others are reused");
        Assert.That(counting.Extensions, Is.EqualTo(reused), "one retention change per reused chunk");
        var revisionLock = later + TimeSpan.FromDays(1);
        foreach (var id in chunks)
            Assert.That(await Retention(id), Is.GreaterThanOrEqualTo(revisionLock), $"chunk {id}");
        var rev = await job.Store.GetRetentionAsync(job.Prefix + "job/" + CopyLayout.Revision(second.Id), ct);
        Assert.That(rev, Is.GreaterThanOrEqualTo(revisionLock - TimeSpan.FromSeconds(1)).And.LessThan(revisionLock + TimeSpan.FromDays(1)), "the .rev is locked for its own days");

        // An hour later the locks still cover a third revision: the record knows their dates, nothing is asked or changed.
        TestImages.Poke(job.Local.ImagePath, TestImages.Block(2) + 5, seed: 43);
        Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
        await Copy(later + TimeSpan.FromHours(1));
        Assert.That(counting.Extensions, Is.EqualTo(reused));

        // Without the record (rebuilt from a listing) the dates are asked for once, and still nothing is changed.
        File.Delete(Path.Combine(job.JobPath, "copies", "offsite.chunks"));
        TestImages.Poke(job.Local.ImagePath, TestImages.Block(3) + 5, seed: 44);
        Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
        await Copy(later + TimeSpan.FromHours(2));
        Assert.That(counting.Extensions, Is.EqualTo(reused));
        var last = job.Local.Job.CompleteRevisions()[^1];
        foreach (var id in job.Local.Job.ReadChunkMap(last).ReferencedChunks())
            Assert.That(await Retention(id), Is.GreaterThanOrEqualTo(later + TimeSpan.FromHours(2) + TimeSpan.FromDays(1)));
    }
}

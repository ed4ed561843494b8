using Backy.Storage;
using Backy.Storage.Backup;
using Backy.Storage.Chunks;
using Backy.Storage.Editing;
using Backy.Storage.Jobs;
using Backy.Storage.Purge;
using Backy.Storage.Restore;
using Backy.Storage.Revisions;
using Backy.Tests.Api;
using Backy.Tests.Storage.Support;
using Microsoft.Extensions.Logging;

namespace Backy.Tests.Reliability;

/// <summary>
/// One damaged <c>.rev</c> among healthy ones, in process: the healthy revisions stay usable, the damaged one is
/// reported once and never costs data (purge keeps its chunks, backup leaves it alone). The same through the
/// real worker is in <see cref="CorruptionTests"/>.
/// </summary>
public class DamagedRevisionTests
{
    sealed class Fixture : LoggedTestJob
    {
        public readonly byte[] ImageA, ImageB;
        public Revision A = null!, B = null!;

        public Fixture()
        {
            var rnd = new Random(31);
            ImageA = new byte[2 * Blocks.Size + 100];
            rnd.NextBytes(ImageA);
            ImageB = (byte[])ImageA.Clone();
            rnd.NextBytes(ImageB.AsSpan(Blocks.Size, 4096)); // B has a block 1 of its own
        }

        public async Task BackUpBothAsync()
        {
            A = await BackUpAsync(ImageA);
            B = await BackUpAsync(ImageB);
        }

        public Task<Revision> BackUpAsync(byte[] image) =>
            new BackupEngine(Job, Logger, TimeProvider.System, new BackupSettings(2))
                .BackupAsync(new MemorySource { Image = image }, ["daily"], CancellationToken.None);

        public async Task<byte[]> RestoreAsync(Revision r)
        {
            var output = new MemoryStream();
            await new RestoreEngine(Job, Logger).RestoreToStreamAsync(r, output, CancellationToken.None);
            return output.ToArray();
        }

        public Task<PurgeResult> PurgeAsync() => new GarbageCollector(Job, Logger).PurgeAsync(CancellationToken.None);

        /// <summary>Unparsable YAML in place of the .rev; returns its original bytes.</summary>
        public byte[] DamageRev(Revision r)
        {
            var path = Job.RevisionPath(r.Id);
            var original = File.ReadAllBytes(path);
            new FileInfo(path).IsReadOnly = false;
            File.WriteAllText(path, "uuid: [\n");
            return original;
        }

        public HashSet<ChunkId> Chunks() => Job.Chunks.EnumerateChunks().Select(c => c.Id).ToHashSet();
        public List<string> Warnings() => Log.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal)).ToList();

    }

    [Test]
    public async Task Listing_skips_a_damaged_rev_with_one_warning_naming_it()
    {
        using var f = new Fixture();
        await f.BackUpBothAsync();
        f.DamageRev(f.A);

        Assert.That(f.Job.LoadRevisions().Select(r => r.Id), Is.EqualTo(new[] { f.B.Id }));
        Assert.That(f.Job.CompleteRevisions().Select(r => r.Id), Is.EqualTo(new[] { f.B.Id }));
        var scan = f.Job.ScanRevisions();
        Assert.That(scan.Damaged.Single().Id, Is.EqualTo(f.A.Id));
        Assert.That(scan.Damaged.Single().Reason, Does.Contain(f.Job.RevisionPath(f.A.Id)).And.Contain("invalid"));
        var warnings = f.Warnings();
        Assert.That(warnings, Has.Count.EqualTo(1), "one warning however often the job is listed");
        Assert.That(warnings[0], Does.Contain(f.Job.RevisionPath(f.A.Id)).And.Contain($"forget -r {f.A.Id}"));
        Assert.That(await f.RestoreAsync(f.Job.LoadRevision(f.B.Id)), Is.EqualTo(f.ImageB));
    }

    [Test]
    public async Task Resolving_a_damaged_revision_by_id_names_the_file_and_the_reason()
    {
        using var f = new Fixture();
        await f.BackUpBothAsync();
        f.DamageRev(f.B);

        var e = Assert.Throws<BackyException>(() => f.Job.Resolve(f.B.Id, f.Job.CompleteRevisions()));
        Assert.That(e!.Message, Does.StartWith($"revision {f.B.Id} cannot be used").And.Contain(f.Job.RevisionPath(f.B.Id)));
        Assert.That(f.Job.Resolve("latest", f.Job.CompleteRevisions()).Id, Is.EqualTo(f.A.Id), "latest among the readable ones");
    }

    [Test]
    public async Task Purge_keeps_the_chunks_of_a_damaged_rev_and_repairing_the_file_brings_the_revision_back()
    {
        using var f = new Fixture();
        await f.BackUpBothAsync();
        var before = f.Chunks();
        var onlyB = f.Job.ReadChunkMap(f.B).ReferencedChunks().Except(f.Job.ReadChunkMap(f.A).ReferencedChunks()).ToList();
        Assert.That(onlyB, Is.Not.Empty, "B has a chunk of its own");
        var original = f.DamageRev(f.B);

        var purge = await f.PurgeAsync();

        Assert.That(purge.DeletedChunks, Is.Zero);
        Assert.That(f.Chunks(), Is.EquivalentTo(before));
        File.WriteAllBytes(f.Job.RevisionPath(f.B.Id), original);
        Assert.That(await f.RestoreAsync(f.Job.LoadRevision(f.B.Id)), Is.EqualTo(f.ImageB));
    }

    [Test]
    public async Task Purge_sweeps_nothing_when_a_damaged_revs_chunk_map_is_unreadable_too()
    {
        using var f = new Fixture();
        await f.BackUpBothAsync();
        var c = await f.BackUpAsync(f.ImageA);
        f.Job.RemoveRevision(f.B.Id); // forgotten: B's own chunk is garbage now
        var before = f.Chunks();
        f.DamageRev(f.A);
        File.WriteAllBytes(f.Job.ChunkMapPath(f.A.Id), [1, 2, 3]);

        var purge = await f.PurgeAsync();

        Assert.That(purge.DeletedChunks, Is.Zero, "A's chunks are unknown: nothing may go");
        Assert.That(f.Chunks(), Is.EquivalentTo(before));
        Assert.That(f.Warnings(), Has.Some.Contains("Purge keeps every chunk").And.Contains(f.Job.ChunkMapPath(f.A.Id)));
        Assert.That(await f.RestoreAsync(c), Is.EqualTo(f.ImageA));
    }

    [Test]
    public async Task Backup_succeeds_beside_a_damaged_rev_and_leaves_it_untouched()
    {
        using var f = new Fixture();
        await f.BackUpBothAsync();
        f.DamageRev(f.B);
        var damaged = File.ReadAllBytes(f.Job.RevisionPath(f.B.Id));

        var c = await f.BackUpAsync(f.ImageB);

        Assert.That(c.Parent, Is.EqualTo(f.A.Id), "the parent is the newest readable revision");
        Assert.That(File.ReadAllBytes(f.Job.RevisionPath(f.B.Id)), Is.EqualTo(damaged), "not treated as incomplete and removed");
        Assert.That(f.Job.HasChunkMap(f.B.Id), Is.True);
        Assert.That(await f.RestoreAsync(c), Is.EqualTo(f.ImageB));
        Assert.That(await f.RestoreAsync(f.A), Is.EqualTo(f.ImageA));
    }

    [Test]
    public async Task Forget_by_id_removes_a_damaged_revision_and_the_next_purge_sweeps_its_chunks()
    {
        using var f = new Fixture();
        await f.BackUpBothAsync();
        var keep = f.Job.ReadChunkMap(f.A).ReferencedChunks().ToHashSet();
        f.DamageRev(f.B);

        Assert.That(new RevisionEditor(f.Job, TimeProvider.System, f.Logger).Forget(f.B.Id), Is.EqualTo(f.B.Id));
        await f.PurgeAsync();

        Assert.That(File.Exists(f.Job.RevisionPath(f.B.Id)) || f.Job.HasChunkMap(f.B.Id), Is.False);
        Assert.That(f.Job.ScanRevisions().Damaged, Is.Empty);
        Assert.That(f.Chunks(), Is.EquivalentTo(keep));
        Assert.That(await f.RestoreAsync(f.A), Is.EqualTo(f.ImageA));
    }

    /// <summary>
    /// A .rev cut after its timestamp still parses (the original's oldest files are that short) and would read as
    /// an incomplete old-format revision that the next backup removes, chunk map included. Its chunk map in our
    /// format gives it away.
    /// </summary>
    [Test]
    public async Task A_rev_truncated_to_a_parsable_stub_is_damaged_and_survives_the_next_backup()
    {
        using var f = new Fixture();
        await f.BackUpBothAsync();
        var path = f.Job.RevisionPath(f.B.Id);
        var lines = File.ReadAllLines(path);
        new FileInfo(path).IsReadOnly = false;
        File.WriteAllLines(path, lines.Where(l => l.StartsWith("uuid:", StringComparison.Ordinal) || l.StartsWith("timestamp:", StringComparison.Ordinal)));

        Assert.That(f.Job.ScanRevisions().Damaged.Single().Reason, Does.Contain("old format").And.Contain(f.Job.ChunkMapPath(f.B.Id)));
        await f.BackUpAsync(f.ImageA);

        Assert.That(File.Exists(path) && f.Job.HasChunkMap(f.B.Id), Is.True, "not removed as an incomplete revision");
    }

    /// <summary>
    /// Parsable but not what was written (issue 13): before, a changed uuid or an unknown backend_type made purge
    /// sweep every chunk of the revision, a misspelt <c>duration</c> made the next backup remove it as incomplete.
    /// Now each is damaged: listed as such, its chunks kept by purge, left alone by the backup; repaired, it restores.
    /// </summary>
    [TestCase("uuid: {id}", "uuid: {id}x")]
    [TestCase("backend_type: chunked-xxh128", "backend_type: chunked-xxh129")]
    [TestCase("  duration:", "  duratiom:")]
    [TestCase("  duration:", "  durations:")]
    [TestCase("trust: trusted", "trust: trusted\nverified_by: someone")]
    [TestCase("  chunks_written:", "  chunks_writen:")]
    [TestCase("  image_size: ", "  image_size: -")]
    public async Task A_parsable_rev_that_is_not_what_was_written_is_damaged_and_costs_no_chunk(string from, string to)
    {
        using var f = new Fixture();
        await f.BackUpBothAsync();
        var path = f.Job.RevisionPath(f.B.Id);
        var original = File.ReadAllText(path);
        var (a, b) = (from.Replace("{id}", f.B.Id), to.Replace("{id}", f.B.Id).Replace("\\n", "\n"));
        Assert.That(original, Does.Contain(a));
        new FileInfo(path).IsReadOnly = false;
        File.WriteAllText(path, original.Replace(a, b));
        var onlyB = f.Job.ReadChunkMap(f.B).ReferencedChunks().Except(f.Job.ReadChunkMap(f.A).ReferencedChunks()).ToList();
        Assert.That(onlyB, Is.Not.Empty, "B has a chunk of its own");

        Assert.That(f.Job.ScanRevisions().Damaged.Select(d => d.Id), Is.EqualTo(new[] { f.B.Id }));
        Assert.That(f.Job.LoadRevisions().Select(r => r.Id), Is.EqualTo(new[] { f.A.Id }));
        await f.PurgeAsync();
        await f.BackUpAsync(f.ImageA);
        await f.PurgeAsync();

        Assert.That(f.Chunks(), Is.SupersetOf(onlyB), "purge kept the damaged revision's chunks");
        Assert.That(File.Exists(path) && f.Job.HasChunkMap(f.B.Id), Is.True, "the backup left the damaged revision alone");
        File.WriteAllText(path, original);
        Assert.That(await f.RestoreAsync(f.Job.LoadRevision(f.B.Id)), Is.EqualTo(f.ImageB), "repaired, it restores");
    }

    /// <summary>What our backup writes at its start is the one incomplete revision the next backup may remove.</summary>
    [Test]
    public async Task Only_what_an_unfinished_backup_wrote_is_removed_as_incomplete()
    {
        using var f = new Fixture();
        await f.BackUpBothAsync();
        var path = f.Job.RevisionPath(f.B.Id);
        new FileInfo(path).IsReadOnly = false;
        var b = f.Job.LoadRevision(f.B.Id);
        b.Duration = null;
        b.BytesWritten = 0;
        b.ExtraStats.Clear();
        f.Job.WriteRevision(b); // exactly what BackupEngine writes before reading the source

        Assert.That(f.Job.LoadRevision(f.B.Id).IsComplete, Is.False);
        await f.BackUpAsync(f.ImageA);

        Assert.That(File.Exists(path) || f.Job.HasChunkMap(f.B.Id), Is.False, "removed as incomplete");
    }
}

using Backy.Storage.Jobs;
using Backy.Storage.Legacy;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging.Abstractions;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Legacy;

public class JobUpgraderTests
{
    private const int Block = LegacyJobBuilder.Block;
    private string _dir = null!;
    private LegacyJobBuilder _builder = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("backy-upgrade-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>cowfile (no backend_type), cowfile, chunked, chunked sharing blocks, chunked with zero blocks.</summary>
    private async Task<JobDirectory> BuildJobAsync(CancellationToken ct, bool v1Layout = false)
    {
        _builder = new LegacyJobBuilder(_dir, v1Layout);
        var baseImage = LegacyJobBuilder.MakeImage(10, 2L * Block + 999);
        _builder.AddCowfile(LegacyJobBuilder.MakeImage(11, Block / 2 + 3), LegacyImagesTests.T(1), ["weekly"]);
        _builder.AddCowfile(baseImage, LegacyImagesTests.T(2), ["daily"], withBackendType: true);
        var a = LegacyJobBuilder.MakeImage(12, 3L * Block, baseImage);
        _builder.AddChunked(a, LegacyImagesTests.T(3), ["daily", "weekly"], trust: "verified");
        var b = LegacyJobBuilder.MakeImage(13, 3L * Block, a);
        _builder.AddChunked(b, LegacyImagesTests.T(4), ["daily"], trust: "distrusted", omitZeroBlocks: false);
        var c = LegacyJobBuilder.MakeImage(14, 3L * Block + 17, b);
        c.AsSpan(Block, Block).Clear(); // a zero block in the middle, absent from the mapping
        _builder.AddChunked(c, LegacyImagesTests.T(5), ["daily", "manual:keep"]);
        await _builder.FinishAsync(ct);
        return new JobDirectory(_dir);
    }

    private void AssertEveryRevisionReadsBack(JobDirectory job)
    {
        foreach (var (id, image) in _builder.Images)
            Bytes.AssertSame(image, RevisionImageReader.Read(job, id), $"revision {id}");
    }

    private static Task<UpgradeReport> UpgradeAsync(JobDirectory job, CancellationToken ct, Action<string>? checkpoint = null) =>
        new JobUpgrader(job, NullLogger.Instance) { Checkpoint = checkpoint }.RunAsync(ct);

    [TestCase(false), TestCase(true), CancelAfter(180_000)]
    public async Task Upgrade_converts_every_revision_newest_first_and_each_restores_bit_identically(bool v1Layout, CancellationToken ct)
    {
        var job = await BuildJobAsync(ct, v1Layout);
        // By id: the original's `last.rev` symlink would list the newest twice.
        var before = _builder.Order.ToDictionary(id => id, job.LoadRevision);

        var report = await UpgradeAsync(job, ct);

        Assert.That(report.Success, Is.True, report.Summary());
        Assert.That(report.Converted, Is.EqualTo(Enumerable.Reverse(_builder.Order).ToList()));
        AssertEveryRevisionReadsBack(job);
        foreach (var after in job.LoadRevisions())
        {
            var old = before[after.Id];
            Assert.That(after.BackendType, Is.EqualTo(Revision.OurBackendType));
            Assert.That((after.Timestamp, after.Trust, after.Tags, after.Duration, after.BytesWritten, after.Parent),
                Is.EqualTo((old.Timestamp, old.Trust, old.Tags, old.Duration, old.BytesWritten, old.Parent)));
            Assert.That(File.ReadAllText(_builder.RevPath(after.Id)), Does.Contain("chunk_stats").And.Contain("write_partial: 1"));
        }
        Assert.That(Directory.EnumerateFiles(_builder.ChunkDir, "*.chunk.lzo", SearchOption.AllDirectories), Is.Empty);
        Assert.That(File.Exists(Path.Combine(_builder.ChunkDir, "store")), Is.False);
        Assert.That(Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName),
            Has.None.EndsWith(LegacyFormat.ParkedSuffix).And.None.EndsWith(LegacyFormat.StagedMapSuffix).And.None.EqualTo("last.rev"));
    }

    [Test, CancelAfter(180_000)]
    public async Task A_second_run_has_nothing_to_do(CancellationToken ct)
    {
        var job = await BuildJobAsync(ct);
        await UpgradeAsync(job, ct);

        var report = await UpgradeAsync(job, ct);

        Assert.That((report.Converted.Count, report.Failed.Count, report.LegacyChunksDeleted), Is.EqualTo((0, 0, 0L)));
        AssertEveryRevisionReadsBack(job);
    }

    [Test, CancelAfter(180_000)]
    public async Task A_corrupt_old_chunk_leaves_its_revision_as_it_was_and_the_others_are_converted(CancellationToken ct)
    {
        var job = await BuildJobAsync(ct);
        // A chunk only the second-newest revision uses: corrupt it (valid LZO, other content).
        var victimRev = _builder.Order[^2];
        var victimMap = LegacyChunkMap.Read(Path.Combine(_dir, victimRev));
        var others = _builder.Order.Where(id => id != victimRev && File.ReadAllText(Path.Combine(_dir, id)).StartsWith('{'))
            .SelectMany(id => LegacyChunkMap.Read(Path.Combine(_dir, id)).Hashes()).ToHashSet();
        var victim = victimMap.Hashes().First(h => !others.Contains(h));
        var victimPath = _builder.ChunkPath(victim);
        File.Delete(victimPath);
        var wrongContent = await PythonLzoTool.CompressAsync(new byte[Block], 1, _dir, ct);
        await File.WriteAllBytesAsync(victimPath, wrongContent, ct);
        var revBefore = await File.ReadAllBytesAsync(_builder.RevPath(victimRev), ct);
        var mapBefore = await File.ReadAllBytesAsync(Path.Combine(_dir, victimRev), ct);

        var report = await UpgradeAsync(job, ct);

        Assert.That(report.Failed.Select(f => f.Id), Is.EqualTo(new[] { victimRev }));
        Assert.That(report.Failed[0].Reason, Does.Contain(victim));
        Assert.That(report.Converted, Is.EquivalentTo(_builder.Order.Where(id => id != victimRev)));
        Assert.That(await File.ReadAllBytesAsync(_builder.RevPath(victimRev), ct), Is.EqualTo(revBefore));
        Assert.That(await File.ReadAllBytesAsync(Path.Combine(_dir, victimRev), ct), Is.EqualTo(mapBefore));
        foreach (var hash in victimMap.Hashes())
            Assert.That(new LegacyChunkStore(_builder.ChunkDir).Locate(hash), Is.Not.Null, $"old chunk {hash} of the failed revision");
        foreach (var id in _builder.Order.Where(id => id != victimRev))
            Bytes.AssertSame(_builder.Images[id], RevisionImageReader.Read(job, id), id);
    }

    public static IEnumerable<TestCaseData> CrashPoints() =>
        from step in new[] { "copied", "staged", "parked", "placed", "switched" }
        from nth in new[] { 1, 4 }
        select new TestCaseData(step, nth);

    [TestCaseSource(nameof(CrashPoints)), CancelAfter(180_000), Category("Slow")]
    public async Task A_crash_in_any_window_leaves_every_revision_readable_and_a_rerun_finishes(string step, int nth, CancellationToken ct)
    {
        var job = await BuildJobAsync(ct);
        var seen = 0;

        await Assert.ThrowsAsync<SimulatedCrash>(() => UpgradeAsync(job, ct, s =>
        {
            if (s == step && ++seen == nth) throw new SimulatedCrash();
        }));

        AssertEveryRevisionReadsBack(job); // a partly upgraded directory, each revision in its own format
        var report = await UpgradeAsync(job, ct);
        Assert.That(report.Success, Is.True, report.Summary());
        Assert.That(job.LoadRevisions().Select(r => r.BackendType), Is.All.EqualTo(Revision.OurBackendType));
        AssertEveryRevisionReadsBack(job);
        Assert.That(Directory.EnumerateFiles(_builder.ChunkDir, "*.chunk.lzo", SearchOption.AllDirectories), Is.Empty);
        Assert.That(Directory.EnumerateFiles(_dir).Select(Path.GetFileName),
            Has.None.EndsWith(LegacyFormat.ParkedSuffix).And.None.EndsWith(LegacyFormat.StagedMapSuffix));
    }

    private sealed class SimulatedCrash : Exception;
}

using System.Collections.Concurrent;
using Backy.Storage.Backup;
using Backy.Storage.Chunks;
using Backy.Storage.Legacy;
using Backy.Storage.Progress;
using Backy.Storage.Restore;
using Backy.Storage.Revisions;
using Backy.Storage.Verify;
using Backy.Tests.Legacy;
using Backy.Tests.Storage.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backy.Tests.Progress;

/// <summary>Each engine reports its progress up to the total it announced, never beyond, with the bytes it moved.</summary>
public class EngineProgressTests
{
    /// <summary>Every report, from whichever thread made it.</summary>
    private sealed class Recorder : IProgress<OperationProgress>
    {
        public readonly ConcurrentQueue<OperationProgress> Reports = new();
        public void Report(OperationProgress value) => Reports.Enqueue(value);
        public OperationProgress Last => Reports.MaxBy(r => (r.BlocksDone, r.BytesRead, r.BytesWritten))!;
    }

    private static void AssertReachedTotal(Recorder recorder, string operation, long total)
    {
        Assert.That(recorder.Reports, Is.Not.Empty);
        Assert.That(recorder.Reports.Select(r => r.Operation).Distinct(), Is.EqualTo(new[] { operation }));
        Assert.That(recorder.Reports.Select(r => r.BlocksTotal).Distinct(), Is.EqualTo(new[] { total }), "the total is known before the first report");
        Assert.That(recorder.Reports.Max(r => r.BlocksDone), Is.EqualTo(total), "done reaches the total");
        Assert.That(recorder.Reports.All(r => r.Percent is >= 0 and <= 100), Is.True);
    }

    private static byte[] Image(long size, int seed)
    {
        var b = new byte[size];
        new Random(seed).NextBytes(b);
        b.AsSpan(Blocks.Size, Blocks.Size).Clear(); // a hole: counted, not read
        return b;
    }

    [Test, CancelAfter(60_000)]
    public async Task Backup_restore_and_verify_report_every_block(CancellationToken ct)
    {
        using var t = new TestJob();
        var image = Image(3L * Blocks.Size + 77, 1); // 4 blocks, the last one short

        var backup = new Recorder();
        var revision = await new BackupEngine(t.Job, NullLogger.Instance, TimeProvider.System, new BackupSettings(2)) { Progress = backup }
            .BackupAsync(new MemorySource { Image = image }, ["daily"], ct);
        // 4 blocks read, 4 verified against the source.
        AssertReachedTotal(backup, "backup", 8);
        Assert.That(backup.Last.BytesRead, Is.EqualTo(2 * image.LongLength), "read once and verified once");
        Assert.That(backup.Last.BytesWritten, Is.EqualTo(revision.BytesWritten), "the new chunk files");

        var restore = new Recorder();
        await new RestoreEngine(t.Job, NullLogger.Instance) { Progress = restore }.RestoreToStreamAsync(revision, new MemoryStream(), ct);
        AssertReachedTotal(restore, "restore", 4);
        Assert.That(restore.Last.BytesWritten, Is.EqualTo(image.LongLength));
        Assert.That(restore.Last.BytesRead, Is.EqualTo(image.LongLength - Blocks.Size), "the hole is written, not read");

        var changed = new Recorder();
        var target = t.PathIn("target.img");
        File.WriteAllBytes(target, image);
        await using (var file = FileRestoreTarget.Open(target))
            await new RestoreEngine(t.Job, NullLogger.Instance) { Progress = changed }.RestoreChangedAsync(revision, file, ct);
        AssertReachedTotal(changed, "restore", 4);
        Assert.That(changed.Last.BytesWritten, Is.Zero, "nothing differed");

        var verify = new Recorder();
        using (var store = RevisionStore.Open(t.Job, "verify", NullLogger.Instance))
            await new RevisionVerifier(store, NullLogger.Instance) { Progress = verify }.VerifyAsync([t.Job.LoadRevision(revision.Id)], ct);
        AssertReachedTotal(verify, "verify", 3); // one read per distinct chunk; the hole has none
    }

    [Test, CancelAfter(60_000)]
    public async Task Upgrade_reports_the_blocks_of_every_revision_it_converts(CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("backy-upgrade-progress-").FullName;
        try
        {
            var builder = new LegacyJobBuilder(dir);
            var a = LegacyJobBuilder.MakeImage(1, 2L * LegacyJobBuilder.Block + 5);
            builder.AddCowfile(a, LegacyImagesTests.T(1), ["daily"], withBackendType: true);
            builder.AddChunked(LegacyJobBuilder.MakeImage(2, 3L * LegacyJobBuilder.Block, a), LegacyImagesTests.T(2), ["daily"]);
            await builder.FinishAsync(ct);

            var upgrade = new Recorder();
            var report = await new JobUpgrader(new Backy.Storage.Jobs.JobDirectory(dir), NullLogger.Instance) { Progress = upgrade }.RunAsync(ct);

            Assert.That(report.Success, Is.True, report.Summary());
            AssertReachedTotal(upgrade, "upgrade", 3 + 3); // 3 blocks each (the first ends 5 bytes into its third)
            Assert.That(upgrade.Last.BytesWritten, Is.GreaterThan(0));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

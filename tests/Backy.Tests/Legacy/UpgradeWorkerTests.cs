using System.Text;
using Backy.Storage.Jobs;
using Backy.Storage.Legacy;
using Backy.Storage.Revisions;
using CliWrap;
using CliWrap.Buffered;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Legacy;

/// <summary>The real `backy-worker` on job directories the Python backy wrote.</summary>
public class UpgradeWorkerTests
{
    private const int Block = LegacyJobBuilder.Block;
    private string _dir = null!;
    private LegacyJobBuilder _builder = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("backy-upgrade-worker-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private Command Worker(params string[] args) => WorkerProcess.Command(_dir, args);

    private Task<WorkerProcess.Result> RunAsync(CancellationToken ct, params string[] args) =>
        WorkerProcess.RunAsync(_dir, ct, args);

    private async Task<byte[]> RestoreAsync(string id, CancellationToken ct)
    {
        var (exitCode, stdout, stderr) = await WorkerProcess.RunBinaryAsync(_dir, ct, "restore", "-r", id, "-");
        Assert.That(exitCode, Is.EqualTo(0), stderr);
        return stdout;
    }

    private async Task BuildJobAsync(CancellationToken ct)
    {
        _builder = new LegacyJobBuilder(_dir);
        var first = LegacyJobBuilder.MakeImage(21, 2L * Block + 4097);
        _builder.AddCowfile(LegacyJobBuilder.MakeImage(20, Block + 1), LegacyImagesTests.T(1), ["daily"]);
        _builder.AddChunked(first, LegacyImagesTests.T(2), ["daily"]);
        var second = LegacyJobBuilder.MakeImage(22, 3L * Block, first, changedBlocks: 2);
        second.AsSpan(2 * Block, Block).Clear();
        _builder.AddChunked(second, LegacyImagesTests.T(3), ["daily", "weekly"]);
        _builder.AddChunked(LegacyJobBuilder.MakeImage(23, 3L * Block + 1, second), LegacyImagesTests.T(4), ["daily"]);
        await _builder.FinishAsync(ct);
    }

    private async Task AssertEveryRevisionRestoresAsync(CancellationToken ct)
    {
        foreach (var (id, image) in _builder.Images)
            Bytes.AssertSame(image, await RestoreAsync(id, ct), $"restore of {id}");
    }

    [Test, CancelAfter(240_000)]
    public async Task A_changed_only_restore_of_legacy_revisions_compares_bytes_and_leaves_the_file_identical(CancellationToken ct)
    {
        await BuildJobAsync(ct);
        var target = Path.Combine(_dir, "disk.raw");
        foreach (var id in _builder.Order)
        {
            // Each revision over the previous one's restore: only blocks that differ are written.
            var r = await RunAsync(ct, "restore", "--changed-only", "-r", id, target);
            Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
            Bytes.AssertSame(_builder.Images[id], await File.ReadAllBytesAsync(target, ct), $"changed-only restore of {id}");
        }
        var again = await RunAsync(ct, "restore", "--changed-only", "-r", _builder.Order[^1], target);
        Assert.That(again.StdOut, Does.Contain("0 of 4 blocks differed"));
    }

    [Test, CancelAfter(240_000), Category("Slow")]
    public async Task Legacy_revisions_restore_purge_and_show_their_format_before_and_after_upgrade(CancellationToken ct)
    {
        await BuildJobAsync(ct);
        var legacyChunks = Directory.EnumerateFiles(_builder.ChunkDir, "*.chunk.lzo", SearchOption.AllDirectories).Count();

        await AssertEveryRevisionRestoresAsync(ct);
        var purge = await RunAsync(ct, "purge");
        Assert.That(purge.ExitCode, Is.EqualTo(0), purge.StdErr);
        Assert.That(Directory.EnumerateFiles(_builder.ChunkDir, "*.chunk.lzo", SearchOption.AllDirectories).Count(), Is.EqualTo(legacyChunks));
        var statusBefore = await RunAsync(ct, "status");
        Assert.That(statusBefore.StdOut, Does.Contain("Format").And.Contain("old chunked").And.Contain("old cowfile"));
        Assert.That(statusBefore.StdOut, Does.Contain("4 revisions"), "the `last.rev` link is not a revision");

        var upgrade = await RunAsync(ct, "upgrade");

        Assert.That(upgrade.ExitCode, Is.EqualTo(0), upgrade.StdErr);
        Assert.That(upgrade.StdOut, Does.Contain("4 revision(s) converted, 0 failed"));
        await AssertEveryRevisionRestoresAsync(ct);
        var statusAfter = await RunAsync(ct, "status", "--yaml");
        Assert.That(statusAfter.StdOut, Does.Contain($"backend_type: {Revision.OurBackendType}").And.Not.Contain("backend_type: chunked\n"));
        var verify = await RunAsync(ct, "verify", "-r", _builder.Order[0]);
        Assert.That(verify.ExitCode, Is.EqualTo(0), verify.StdErr);
    }

    [Test, CancelAfter(240_000), Category("Slow")]
    public async Task Upgrade_killed_at_random_moments_resumes_and_every_revision_restores(CancellationToken ct)
    {
        var seed = Environment.TickCount;
        TestContext.Out.WriteLine($"kill schedule seed {seed}");
        var random = new Random(seed);

        var log = Path.Combine(_dir, "backy.log");
        var sawPartial = false;
        // On a fast machine the whole upgrade of the small fixture can finish between the
        // poll that sees the second "converting" line and the SIGKILL. Such a round proves
        // nothing about resuming, so it starts again from a fresh legacy directory.
        for (var round = 0; round < 8 && !sawPartial; round++)
        {
            if (round > 0)
            {
                Directory.Delete(_dir, recursive: true);
                Directory.CreateDirectory(_dir);
            }
            await BuildJobAsync(ct);
            sawPartial = await KillUpgradeRepeatedlyAsync(random, log, ct);
        }
        Assert.That(sawPartial, Is.True, "no kill in 8 rounds left a partly upgraded directory");

        var final = await RunAsync(ct, "upgrade");
        Assert.That(final.ExitCode, Is.EqualTo(0), final.StdErr);
        var jobAfter = new JobDirectory(_dir);
        Assert.That(jobAfter.LoadRevisions().Select(r => r.BackendType), Is.All.EqualTo(Revision.OurBackendType));
        await AssertEveryRevisionRestoresAsync(ct);
        Assert.That(Directory.EnumerateFiles(_builder.ChunkDir, "*.chunk.lzo", SearchOption.AllDirectories), Is.Empty);
    }

    /// <summary>Kills `backy-worker upgrade` up to six times at random moments; after each kill every
    /// revision must read back. Returns whether some kill left legacy and converted revisions side by side.</summary>
    private async Task<bool> KillUpgradeRepeatedlyAsync(Random random, string log, CancellationToken ct)
    {
        var sawPartial = false;
        for (var attempt = 0; attempt < 6; attempt++)
        {
            var remaining = new JobDirectory(_dir).LoadRevisions().Count(r => LegacyFormat.IsLegacy(r.BackendType));
            if (remaining == 0) break;
            // Kill while the k-th remaining revision converts (k >= 2 means earlier ones are done):
            // a random moment inside real work rather than in the runtime's start-up.
            // The first kill comes while the second revision converts, so a partly upgraded state is certain.
            var k = attempt == 0 ? Math.Min(2, remaining) : random.Next(1, remaining + 1);
            var delay = attempt == 0 ? 0 : random.Next(0, 60);
            var before = ConvertingLines(log);
            using var kill = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var run = Worker("upgrade").ExecuteBufferedAsync(Encoding.UTF8, Encoding.UTF8, CancellationToken.None, kill.Token);
            while (!run.Task.IsCompleted && ConvertingLines(log) < before + k)
                await Task.Delay(5, ct);
            await Task.Delay(delay, ct);
            await kill.CancelAsync(); // CliWrap's forceful cancellation is SIGKILL
            try { await run; } catch (OperationCanceledException) { }

            // Partly upgraded: every revision still restores, each in its own format.
            var job = new JobDirectory(_dir);
            var formats = job.LoadRevisions().Select(r => r.BackendType).ToList();
            TestContext.Out.WriteLine($"kill {attempt} (k={k}, +{delay} ms): {string.Join(" ", formats)}");
            sawPartial |= formats.Any(LegacyFormat.IsLegacy) && formats.Contains(Revision.OurBackendType);
            foreach (var (id, image) in _builder.Images)
                Bytes.AssertSame(image, RevisionImageReader.Read(job, id), $"after kill {attempt}: {id}");
        }
        return sawPartial;
    }

    [Test, CancelAfter(240_000), Category("Slow")]
    public async Task A_backup_on_a_partly_upgraded_job_uses_the_converted_newest_revision_as_parent(CancellationToken ct)
    {
        await BuildJobAsync(ct);
        var newest = _builder.Order[^1];
        var source = Path.Combine(Path.GetDirectoryName(_dir)!, Path.GetFileName(_dir) + ".image");
        var image = (byte[])_builder.Images[newest].Clone();
        image.AsSpan(100, 5000).Fill(0x5a);
        await File.WriteAllBytesAsync(source, image, ct);
        await File.WriteAllTextAsync(Path.Combine(_dir, "config"),
            $"source:\n  type: file\n  filename: {source}\nschedule:\n  daily: {{interval: 1d, keep: 7}}\n", ct);
        try
        {
            // Stop the upgrade after the newest revision is converted, while the next one converts.
            var seen = 0;
            await Assert.ThrowsAsync<InvalidOperationException>(() =>
                new JobUpgrader(new JobDirectory(_dir), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)
                {
                    Checkpoint = step => { if (step == "copied" && ++seen == 2) throw new InvalidOperationException("stop"); },
                }.RunAsync(ct));

            var backup = await RunAsync(ct, "backup", "daily");

            Assert.That(backup.ExitCode, Is.EqualTo(0), backup.StdErr);
            var job = new JobDirectory(_dir);
            var added = job.LoadRevisions().Single(r => !_builder.Images.ContainsKey(r.Id));
            Assert.That(added.Parent, Is.EqualTo(newest));
            Bytes.AssertSame(image, await RestoreAsync(added.Id, ct), "the new backup");
            await AssertEveryRevisionRestoresAsync(ct);
            var status = await RunAsync(ct, "status");
            Assert.That(status.StdOut, Does.Contain("old chunked").And.Contain("current"));

            var upgrade = await RunAsync(ct, "upgrade");
            Assert.That(upgrade.ExitCode, Is.EqualTo(0), upgrade.StdErr);
            await AssertEveryRevisionRestoresAsync(ct);
            Bytes.AssertSame(image, await RestoreAsync(added.Id, ct), "the new backup after the upgrade");
        }
        finally
        {
            File.Delete(source);
        }
    }

    [Test, CancelAfter(240_000), Category("Slow")]
    public async Task Forgetting_a_legacy_revision_frees_the_old_chunks_only_it_used_at_the_next_purge(CancellationToken ct)
    {
        await BuildJobAsync(ct);
        var victim = _builder.Order[1]; // the oldest chunked revision
        var chunked = _builder.Order.Where(id => File.ReadAllText(Path.Combine(_dir, id)).StartsWith('{')).ToList();
        var others = chunked.Where(id => id != victim)
            .SelectMany(id => LegacyChunkMap.Read(Path.Combine(_dir, id)).Hashes()).ToHashSet();
        var own = LegacyChunkMap.Read(Path.Combine(_dir, victim)).Hashes().Where(h => !others.Contains(h)).ToList();
        Assert.That(own, Is.Not.Empty, "fixture: the revision has chunks of its own");

        var forget = await RunAsync(ct, "forget", "-r", victim);
        Assert.That(forget.ExitCode, Is.EqualTo(0), forget.StdErr);
        var purge = await RunAsync(ct, "purge");

        Assert.That(purge.ExitCode, Is.EqualTo(0), purge.StdErr);
        var store = new LegacyChunkStore(_builder.ChunkDir);
        Assert.That(own.Where(h => store.Locate(h) is not null), Is.Empty);
        Assert.That(others.Where(h => store.Locate(h) is null), Is.Empty);
        _builder.Images.Remove(victim);
        await AssertEveryRevisionRestoresAsync(ct);
    }

    [TestCase("placed", 2), TestCase("switched", 1), CancelAfter(240_000), Category("Slow")]
    public async Task Purge_after_an_interrupted_upgrade_cleans_up_and_every_revision_restores(string step, int nth, CancellationToken ct)
    {
        await BuildJobAsync(ct);
        var seen = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            new JobUpgrader(new JobDirectory(_dir), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)
            {
                Checkpoint = s => { if (s == step && ++seen == nth) throw new InvalidOperationException("stop"); },
            }.RunAsync(ct));
        Assert.That(Directory.EnumerateFiles(_dir, "*" + LegacyFormat.ParkedSuffix), Is.Not.Empty, "fixture: interrupted mid-switch");

        var purge = await RunAsync(ct, "purge");

        Assert.That(purge.ExitCode, Is.EqualTo(0), purge.StdErr);
        Assert.That(Directory.EnumerateFiles(_dir).Select(Path.GetFileName),
            Has.None.EndsWith(LegacyFormat.ParkedSuffix).And.None.EndsWith(LegacyFormat.StagedMapSuffix));
        await AssertEveryRevisionRestoresAsync(ct);
        var upgrade = await RunAsync(ct, "upgrade");
        Assert.That(upgrade.ExitCode, Is.EqualTo(0), upgrade.StdErr);
        await AssertEveryRevisionRestoresAsync(ct);
    }

    private static int ConvertingLines(string log)
    {
        if (!File.Exists(log)) return 0;
        using var reader = new StreamReader(new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        var text = reader.ReadToEnd();
        var count = 0;
        for (var at = text.IndexOf("upgrade: converting revision", StringComparison.Ordinal); at >= 0;
             at = text.IndexOf("upgrade: converting revision", at + 1, StringComparison.Ordinal))
            count++;
        return count;
    }

    [Test, CancelAfter(240_000), Category("Slow")]
    public async Task A_corrupt_old_chunk_makes_upgrade_exit_1_naming_the_revision_and_the_rest_is_converted(CancellationToken ct)
    {
        await BuildJobAsync(ct);
        var newest = _builder.Order[^1];
        var newestMap = LegacyChunkMap.Read(Path.Combine(_dir, newest));
        var hash = newestMap.Hashes().First();
        var path = new LegacyChunkStore(_builder.ChunkDir).Locate(hash)!;
        var bytes = await File.ReadAllBytesAsync(path, ct);
        bytes[^10] ^= 0xff; // inside the LZO stream near its end
        File.Delete(path);
        await File.WriteAllBytesAsync(path, bytes, ct);
        var users = _builder.Order.Where(id => File.ReadAllText(Path.Combine(_dir, id)).StartsWith('{')
            && LegacyChunkMap.Read(Path.Combine(_dir, id)).Hashes().Contains(hash)).ToList();

        var upgrade = await RunAsync(ct, "upgrade");

        Assert.That(upgrade.ExitCode, Is.EqualTo(1));
        foreach (var id in users)
            Assert.That(upgrade.StdErr, Does.Contain(id));
        var job = new JobDirectory(_dir);
        foreach (var r in job.LoadRevisions())
            Assert.That(r.BackendType, users.Contains(r.Id) ? Is.EqualTo(LegacyFormat.Chunked) : Is.EqualTo(Revision.OurBackendType), r.Id);
        foreach (var id in _builder.Order.Except(users))
            Bytes.AssertSame(_builder.Images[id], await RestoreAsync(id, ct), id);
    }
}

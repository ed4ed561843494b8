using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;

namespace Backy.Tests.Peers;

/// <summary>
/// Server migration end to end (issue 6): two real daemons on loopback with their own base
/// directories, ports and tokens both ways, the real backy-worker on a real file source, and the
/// real backy client. Job "moved" makes two revisions on A, moves to B by editing and reloading
/// both configurations, and B then manages A's revisions through the peer API: B mirrors them,
/// B's expire removes one while A is down (kept pending), and the run after A is back removes it
/// there. Every schedule is daily, so nothing runs unless the test asks.
/// </summary>
[Category("Slow")]
public class PeerDaemonTests
{
    private const int MiB = 1 << 20;

    [Test, CancelAfter(180_000)]
    public async Task A_job_moved_from_A_to_B_sees_As_revisions_and_expire_on_B_removes_and_purges_them_on_A(CancellationToken ct)
    {
        await using var a = new PeerServer("server-a");
        await using var b = new PeerServer("server-b");
        // Block 0 stays, block 1 (the last MiB) changes: A's two revisions share one chunk and
        // each has one of its own, so a purge after removing the first must delete exactly one.
        WriteImage(a.Image, seed: 1);
        WriteImage(b.Image, seed: 3);
        a.WriteConfig(runsJob: true, peer: null, keep: 10);
        b.WriteConfig(runsJob: false, peer: null, keep: 10);
        await a.StartAsync(ct);
        await b.StartAsync(ct);
        await a.RunJobAsync(ct);
        ChangeLastMiB(a.Image, seed: 2);
        await a.RunJobAsync(ct);
        var onA = new JobDirectory(a.JobDir);
        var (first, second) = onA.CompleteRevisions().OrderBy(r => r.Timestamp).ToArray() switch
        {
            [var x, var y] => (x, y),
            var other => throw new AssertionException($"expected 2 revisions on A, found {other.Length}"),
        };
        Assert.That(ChunksOf(onA), Has.Count.EqualTo(3));

        // The move: A drops the job, B takes it; each names the other as a peer.
        a.WriteConfig(runsJob: false, peer: b, keep: 10);
        b.WriteConfig(runsJob: true, peer: a, keep: 10);
        await a.ReloadAsync(ct);
        await b.ReloadAsync(ct);
        Assert.That(JobLine(await a.ClientAsync(ct, "jobs")), Does.Contain("Dead"), "A keeps the directory as a dead backup");
        Assert.That(JobLine(await b.ClientAsync(ct, "jobs")), Does.Not.Contain("Dead"));
        // The job ran on A for days: its first revision is old enough for B's expire to matter.
        first.Timestamp = first.Timestamp.AddDays(-10);
        onA.WriteRevision(first);

        await b.RunJobAsync(ct);

        var onB = new JobDirectory(b.JobDir);
        var mirrored = Peer(onB);
        Assert.That(mirrored.Select(r => (r.Id, r.Server, r.Timestamp)),
            Is.EqualTo(new[] { (first.Id, "server-a", first.Timestamp), (second.Id, "server-a", second.Timestamp) }));
        Assert.That(mirrored.Select(r => (string.Join(',', r.Tags), string.Join(',', r.OrigTags))), Is.All.EqualTo(("often", "often")));
        Assert.That(mirrored.Where(r => onB.HasChunkMap(r.Id)), Is.Empty, "peer revisions are metadata only");
        Assert.That(Local(onB), Has.Count.EqualTo(1), "B's own revision");
        Assert.That(b.Log, Does.Contain("moved: peer server-a: 2 revisions added"));
        var status = await ExecutableAsync("backy", ["-b", b.JobDir, "status"], ct);
        Assert.That(status.StandardOutput.Split('\n').Where(l => l.Contains("server-a", StringComparison.Ordinal)).ToList(),
            Has.Count.EqualTo(2).And.Some.Contains(first.Id).And.Some.Contains(second.Id), "the Server column\n" + status.StandardOutput);

        // B keeps 2 now: A's 10-day-old revision loses its tag, the recent one keeps it. But A is
        // down during that run: the run succeeds, B loses nothing and keeps the change pending.
        b.WriteConfig(runsJob: true, peer: a, keep: 2);
        await b.ReloadAsync(ct);
        await a.StopAsync(ct);
        await b.RunJobAsync(ct);
        Assert.That(b.Log, Does.Contain("moved: pull with peer server-a (http://127.0.0.1:"));
        Assert.That(Peer(onB).Select(r => (r.Id, string.Join(',', r.Tags))), Is.EqualTo(new[] { (first.Id, ""), (second.Id, "often") }));
        Assert.That(Local(onB), Has.Count.EqualTo(2));
        Assert.That(File.Exists(onA.RevisionPath(first.Id)), Is.True);
        var check = await b.ClientAsync(ct, "check");
        Assert.That(check.Out, Does.Contain("moved: 1 revision with tag changes not yet pushed to their server"), check.ToString());

        // A is back: B's next run pushes the change.
        await a.StartAsync(ct);
        await b.RunJobAsync(ct);

        Assert.That(File.Exists(onA.RevisionPath(first.Id)), Is.False, "A removed the revision B expired");
        Assert.That(File.Exists(onA.ChunkMapPath(first.Id)), Is.False);
        Assert.That(onA.LoadRevisions().Select(r => (r.Id, string.Join(',', r.Tags))), Is.EqualTo(new[] { (second.Id, "often") }));
        Assert.That(File.Exists(Path.Combine(a.JobDir, ".purge_pending")), Is.True, "B asked A to purge");
        Assert.That(Peer(onB).Select(r => r.Id), Is.EqualTo(new[] { second.Id }));
        Assert.That(Local(onB), Has.Count.EqualTo(3));
        Assert.That(b.Log, Does.Contain("moved: peer server-a: 1 revisions removed there, purge requested"));

        // What A's daily housekeeping does with the marker (its first pass comes a minute after
        // start, too late for this test): the real worker's purge keeps exactly the second's chunks.
        var purge = await ExecutableAsync("backy-worker", ["-b", a.JobDir, "purge"], ct);
        Assert.That(purge.ExitCode, Is.EqualTo(0), purge.StandardError);
        Assert.That(ChunksOf(onA), Is.EquivalentTo(onA.ReadChunkMap(second).Entries.Where(e => e != ChunkMap.Hole).Distinct()));

        await a.StopAsync(ct);
        await b.StopAsync(ct);
        // The job loop B started on reload logs under its runs' task ids, not the reload call's.
        // (LogLine: "TIME LEVEL [task] [job] ..."; a leaked scope would put the reload's "[task] [client]" first.)
        Assert.That(b.Log.Split('\n').Where(l => l.Contains("] [moved] ") && !System.Text.RegularExpressions.Regex.IsMatch(l, @"^\S+ \S+\s+\[[a-z0-9]+\] \[moved\] ")), Is.Empty);
    }

    private static Task<CliWrap.Buffered.BufferedCommandResult> ExecutableAsync(string name, string[] args, CancellationToken ct) =>
        CliWrap.Buffered.BufferedCommandExtensions.ExecuteBufferedAsync(
            CliWrap.Cli.Wrap(Path.Combine(TestContext.CurrentContext.TestDirectory, name)).WithArguments(args)
                .WithValidation(CliWrap.CommandResultValidation.None), ct);

    private static IReadOnlyList<Revision> Peer(JobDirectory dir) =>
        dir.LoadRevisions().Where(r => !r.IsLocal).OrderBy(r => r.Timestamp).ToList();

    private static IReadOnlyList<Revision> Local(JobDirectory dir) => dir.CompleteRevisions().Where(r => r.IsLocal).ToList();

    private static List<ChunkId> ChunksOf(JobDirectory dir) => dir.Chunks.EnumerateChunks().Select(c => c.Id).ToList();

    private static string JobLine(Api.ClientRunner.Result jobs) =>
        jobs.Out.Split('\n').SingleOrDefault(l => l.Contains(PeerServer.Job, StringComparison.Ordinal)) ?? $"no line for the job in\n{jobs}";

    /// <summary>5 MiB: one full 4 MiB block and a 1 MiB tail block.</summary>
    private static void WriteImage(string path, int seed)
    {
        var data = new byte[5 * MiB];
        new Random(seed).NextBytes(data);
        File.WriteAllBytes(path, data);
    }

    private static void ChangeLastMiB(string path, int seed)
    {
        var data = new byte[MiB];
        new Random(seed).NextBytes(data);
        using var file = File.OpenWrite(path);
        file.Seek(-MiB, SeekOrigin.End);
        file.Write(data);
    }
}

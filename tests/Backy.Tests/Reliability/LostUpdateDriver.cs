using Backy.Storage.Chunks;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Reliability;

/// <summary>
/// Seeded interleavings of the revision writers that issue 13 found losing updates: each round, on a fresh copy of
/// one job (4 complete revisions sharing a chunk that is corrupt on disk), starts four real <c>backy-worker</c>
/// commands at seeded offsets within 400 ms (as <see cref="InterleavingDriver"/> does): a <c>restore</c> that hits the
/// corrupt chunk and distrusts every revision, <c>tags add</c> on one revision, <c>expire</c> (which removes the
/// revision whose only tag left the schedule) and <c>forget</c> of another. Then every change a command reported is
/// checked to be on disk:
/// <list type="bullet">
/// <item>restore exits 1 naming the block and says "all revisions are now distrusted": every revision left is distrusted;</item>
/// <item>tags exited 0: the tag is there; refused by the lock: it is not;</item>
/// <item>expire / forget exited 0: their revision is gone, .rev and chunk map (not brought back by a stale rewrite);
/// refused: it is still there;</item>
/// <item>no other revision disappeared, none is listed without its chunk map.</item>
/// </list>
/// Each violated item is one lost update.
/// </summary>
public sealed class LostUpdateDriver(int seed, Action<string> log)
{
    const string LockRefusal = "another backup or revision change is running";
    readonly Random _rnd = new(seed);

    public sealed record Report(int Rounds, int LostUpdates, IReadOnlyList<string> Failures, IReadOnlyDictionary<string, int> Outcomes);

    sealed record Launch(string Op, string[] Args, TimeSpan Delay);

    public async Task<Report> RunAsync(int rounds, CancellationToken ct)
    {
        using var template = new TestJob("daily: {interval: 1d, keep: 1}");
        // Two blocks: the first restores, the second's chunk is corrupted in each round's copy.
        TestImages.WriteMixed(template.ImagePath, Blocks.Size + 65536, seed);
        for (var i = 0; i < 4; i++)
        {
            var b = await WorkerProcess.RunAsync(template.JobPath, ct, "backup", "daily");
            if (b.ExitCode != 0) throw new InvalidOperationException("setup backup failed: " + b.StdErr);
        }
        var revisions = template.Job.CompleteRevisions();
        var shared = template.Job.ReadChunkMap(revisions[0]).Entries[1];

        var failures = new List<string>();
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var lost = 0;
        for (var round = 0; round < rounds; round++)
        {
            var jobPath = template.PathIn($"round-{round}");
            CopyDirectory(template.JobPath, jobPath);
            var job = new JobDirectory(jobPath);
            Corrupt(job.Chunks.PathOf(shared));
            var (expireVictim, forgotten, tagged, restored) = (revisions[0].Id, revisions[1].Id, revisions[2].Id, revisions[3].Id);
            var victim = job.LoadRevision(expireVictim);
            victim.Tags = new SortedSet<string>(["weekly"], StringComparer.Ordinal); // not in the schedule: expire removes it
            job.WriteRevision(victim);
            var tag = $"manual:r{round}";

            var launches = new List<Launch>
            {
                new("restore", ["restore", "-r", restored, template.PathIn($"restored-{round}")], Delay()),
                new("tags", ["tags", "add", tagged, tag], Delay()),
                new("expire", ["expire"], Delay()),
                new("forget", ["forget", "-r", forgotten], Delay()),
            };
            var results = await Task.WhenAll(launches.Select(async l =>
            {
                await Task.Delay(l.Delay, ct);
                return await WorkerProcess.RunAsync(jobPath, ct, l.Args);
            }));

            var problems = new List<string>();
            var now = job.ScanRevisions();
            var present = now.Revisions.ToDictionary(r => r.Id);
            problems.AddRange(now.Damaged.Select(d => $"damaged: {d.Reason}"));
            string Outcome(int i)
            {
                var (l, r) = (launches[i], results[i]);
                var error = r.StdErr.Split('\n').FirstOrDefault(e => e.StartsWith("backy-worker:", StringComparison.Ordinal)) ?? r.StdErr.Trim();
                var outcome = r.ExitCode == 0 ? "ok" : l.Op != "restore" && error.Contains(LockRefusal, StringComparison.Ordinal) ? "locked" : "failed";
                if (l.Op == "restore")
                    outcome = r.ExitCode == 1 && error.Contains("cannot restore block 1", StringComparison.Ordinal) && error.Contains("all revisions are now distrusted", StringComparison.Ordinal)
                        ? "distrusted" : "failed";
                if (outcome == "failed") problems.Add($"{string.Join(' ', l.Args)} exit {r.ExitCode}: {error}");
                outcomes[$"{l.Op} {outcome}"] = outcomes.GetValueOrDefault($"{l.Op} {outcome}") + 1;
                return outcome;
            }
            var (restoreOutcome, tagsOutcome, expireOutcome, forgetOutcome) = (Outcome(0), Outcome(1), Outcome(2), Outcome(3));

            var lostHere = new List<string>();
            if (restoreOutcome == "distrusted")
                lostHere.AddRange(present.Values.Where(r => r.Trust != Trust.Distrusted).Select(r => $"revision {r.Id} is {r.Trust.ToText()} after the restore distrusted all"));
            if (!present.TryGetValue(tagged, out var t))
                lostHere.Add($"revision {tagged} (tags add) disappeared");
            else if ((tagsOutcome == "ok") != t.Tags.Contains(tag))
                lostHere.Add($"tags add {tag} {tagsOutcome}, but revision {tagged} has tags {string.Join(",", t.Tags)}");
            Gone(expireVictim, expireOutcome == "ok", "expire");
            Gone(forgotten, forgetOutcome == "ok", "forget");
            if (!present.ContainsKey(restored)) lostHere.Add($"revision {restored} (restored) disappeared");
            lostHere.AddRange(present.Keys.Where(id => !job.HasChunkMap(id)).Select(id => $"revision {id} is listed without its chunk map"));
            void Gone(string id, bool removed, string by)
            {
                var there = File.Exists(job.RevisionPath(id));
                if (removed && (there || job.HasChunkMap(id))) lostHere.Add($"{by} removed {id}, but its {(there ? ".rev" : "chunk map")} is back");
                if (!removed && !(there && present.ContainsKey(id))) lostHere.Add($"{by} did not remove {id}, but it is gone");
            }
            lost += lostHere.Count;
            problems.AddRange(lostHere.Select(p => "LOST UPDATE: " + p));

            var line = $"round {round}: " + string.Join(", ", launches.Select((l, i) => $"{l.Op} @{l.Delay.TotalMilliseconds:F0}ms -> {results[i].ExitCode}")) +
                       (problems.Count == 0 ? " ok" : " FAILED: " + string.Join("; ", problems));
            log(line);
            if (problems.Count > 0) failures.Add(line);
            Directory.Delete(jobPath, recursive: true);
            File.Delete(template.PathIn($"restored-{round}"));
        }
        return new Report(rounds, lost, failures, outcomes);
    }

    TimeSpan Delay() => TimeSpan.FromMilliseconds(_rnd.Next(400));

    static void Corrupt(string chunkFile)
    {
        new FileInfo(chunkFile).IsReadOnly = false;
        using var f = File.Open(chunkFile, FileMode.Open, FileAccess.ReadWrite);
        f.Position = f.Length / 2;
        var b = f.ReadByte();
        f.Position = f.Length / 2;
        f.WriteByte((byte)~b);
    }

    static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.EnumerateDirectories(from))
            CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
    }
}

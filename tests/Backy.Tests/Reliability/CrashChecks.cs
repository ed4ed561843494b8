using System.Security.Cryptography;
using Backy.Storage;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Reliability;

/// <summary>What must hold after any <c>kill -9</c> of a worker; each check appends a one-line problem.</summary>
public static class CrashChecks
{
    /// <summary>
    /// Every revision complete before the kill is still complete (unless the command may remove revisions), none
    /// of its chunks is missing, and every chunk decodes and hashes to its name with the image bit-identical to
    /// what was backed up (checked in-process for all revisions: a worker run per revision costs seconds here).
    /// One revision, drawn by the seeded <paramref name="rnd"/>, also goes through the real <c>restore</c> and
    /// <c>verify</c> commands.
    /// </summary>
    public static async Task AfterKillAsync(TestJob t, IReadOnlySet<string> before, IReadOnlyDictionary<string, string> expected,
        bool mayRemove, Random rnd, List<string> problems, CancellationToken ct)
    {
        var complete = t.Job.CompleteRevisions().OrderBy(r => r.Id, StringComparer.Ordinal).ToList();
        var ids = complete.Select(r => r.Id).ToHashSet();
        if (!mayRemove)
            problems.AddRange(before.Where(id => !ids.Contains(id)).Select(id => $"complete revision {id} lost"));

        foreach (var rev in complete)
        {
            try
            {
                var map = t.Job.ReadChunkMap(rev);
                var missing = map.ReferencedChunks().Distinct().Count(c => !t.Job.Chunks.Exists(c));
                if (missing > 0) problems.Add($"revision {rev.Id}: {missing} referenced chunks missing");
                else if (ImageSha(t, map) != expected[rev.Id])
                    problems.Add($"revision {rev.Id} does not hold the image it was taken of");
            }
            catch (BackyException e) { problems.Add($"revision {rev.Id}: {e.Message}"); }
        }
        if (complete.Count == 0) return;

        var pick = complete[rnd.Next(complete.Count)];
        var target = t.PathIn("restored");
        var restore = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "-r", pick.Id, target);
        if (restore.ExitCode != 0)
            problems.Add($"restore {pick.Id} exit {restore.ExitCode}: {FirstLine(restore.StdErr)}");
        else if (Convert.ToHexString(TestJob.Sha(target)) != expected[pick.Id])
            problems.Add($"restore {pick.Id} differs from the image it was taken of");
        File.Delete(target);

        var verify = await WorkerProcess.RunAsync(t.JobPath, ct, "verify", "-r", pick.Id);
        if (verify.ExitCode != 0)
            problems.Add($"verify {pick.Id} exit {verify.ExitCode}: {FirstLine(verify.StdErr)}");
    }

    /// <summary>SHA-256 of the image a chunk map describes; every chunk read is decoded and re-hashed.</summary>
    static string ImageSha(TestJob t, ChunkMap map)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var block = new byte[map.BlockSize];
        var scratch = new byte[ChunkStore.ScratchSize];
        for (long b = 0; b < map.BlockCount; b++)
        {
            var length = map.LengthOf(b);
            if (map.IsHole(b)) Array.Clear(block);
            else if (t.Job.Chunks.Read(map.Entries[b], block, scratch) != length)
                return $"block {b} has the wrong length";
            sha.AppendData(block, 0, length);
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <summary>The next backup succeeds, removes every incomplete revision and holds the current image.</summary>
    public static async Task NextBackupCleansUpAsync(TestJob t, Dictionary<string, string> expected, string imageSha,
        List<string> problems, CancellationToken ct)
    {
        var before = t.Job.LoadRevisions().Select(r => r.Id).ToHashSet();
        var backup = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        if (backup.ExitCode != 0)
        {
            problems.Add($"next backup exit {backup.ExitCode}: {FirstLine(backup.StdErr)}");
            return;
        }
        var all = t.Job.LoadRevisions();
        problems.AddRange(all.Where(r => !r.IsComplete).Select(r => $"incomplete revision {r.Id} left after the next backup"));
        foreach (var r in all.Where(r => r.IsComplete && !before.Contains(r.Id)))
            expected[r.Id] = imageSha;
    }

    /// <summary>An uninterrupted purge leaves no temp chunk file and no chunk map without a <c>.rev</c>.</summary>
    public static async Task PurgeLeavesNoGarbageAsync(TestJob t, List<string> problems, CancellationToken ct)
    {
        var purge = await WorkerProcess.RunAsync(t.JobPath, ct, "purge");
        if (purge.ExitCode != 0) problems.Add($"purge exit {purge.ExitCode}: {FirstLine(purge.StdErr)}");
        if (t.Job.Chunks.EnumerateTempFiles().Any()) problems.Add("temp chunk files left after purge");
        if (t.Job.OrphanChunkMaps().Any()) problems.Add("orphan chunk maps left after purge");
    }

    static string FirstLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
}

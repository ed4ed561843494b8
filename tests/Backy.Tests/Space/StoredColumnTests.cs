using Backy.Tests.Api;
using Backy.Tests.Daemon.Support;
using Backy.Tests.Storage.Support;
using Backy.Worker;

namespace Backy.Tests.Space;

/// <summary>
/// <c>backy client jobs</c> shows each job's bytes on disk (Stored), from the real daemon over gRPC, for revisions the
/// real <c>backy-worker</c> made; the expectation is the sum of the chunk files' sizes on disk.
/// </summary>
public class StoredColumnTests
{
    [Test, CancelAfter(120_000)]
    public async Task Client_jobs_shows_the_bytes_of_the_job_chunk_files_and_follows_forget_and_purge(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        var port = ApiHarness.FreePort();
        var image = Path.Combine(bed.Root, "vm.img");
        // A daily schedule and a fresh daily revision: the daemon has nothing to run while the test looks.
        File.WriteAllText(bed.ConfigPath,
            $"global: {{base-dir: {bed.BaseDir}, worker-limit: 1}}\n" +
            $"api:\n  addrs: 127.0.0.1\n  port: {port}\n  tokens:\n    cli-token: cli\n  cli-default: {{token: cli-token}}\n" +
            "schedules:\n  daily: {daily: {interval: 1d, keep: 3}}\n" +
            $"jobs:\n  vm: {{schedule: daily, source: {{type: file, filename: {image}}}}}\n");
        var job = bed.JobDir("vm");
        Directory.CreateDirectory(job);
        File.WriteAllText(Path.Combine(job, "config"), $"source:\n  type: file\n  filename: {image}\nschedule:\n  daily: {{interval: 1d, keep: 3}}\n");
        TestImages.WriteMixed(image, 3 * TestImages.Block(1), seed: 5);
        await Worker(job, ct, "backup", "daily");
        TestImages.Poke(image, TestImages.Block(2) + 11, seed: 12);
        await Worker(job, ct, "backup", "daily");
        var first = new Backy.Storage.Jobs.JobDirectory(job).LoadRevisions()[0].Id;

        using var notify = new NotifySocket();
        bed.StartDaemon(notify);
        await notify.WaitForAsync("READY=1", ct);
        var before = ChunkBytes(job);
        // The daemon measures in the background (a walk never delays a call): the figure shows once measured.
        await StoredBecomesAsync(bed, "vm", Humanize.Size(before), ct);

        await Worker(job, ct, "forget", "-r", first);
        await Worker(job, ct, "purge");
        var after = ChunkBytes(job);
        Assert.That(after, Is.LessThan(before), "the forgotten revision had chunks of its own");
        await StoredBecomesAsync(bed, "vm", Humanize.Size(after), ct);
    }

    static long ChunkBytes(string job) =>
        new Backy.Storage.Jobs.JobDirectory(job).Chunks.EnumerateChunks().Sum(c => new FileInfo(c.Path).Length);

    /// <summary>Polls <c>client jobs</c> until the job's Stored cell is <paramref name="expected"/> (the test's
    /// CancelAfter bounds it); on timeout the last cell seen is in the failure.</summary>
    static async Task StoredBecomesAsync(DaemonTestBed bed, string job, string expected, CancellationToken ct)
    {
        var seen = "";
        try
        {
            while ((seen = await StoredAsync(bed, job, ct)) != expected)
                await Task.Delay(300, ct);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"Stored stayed '{seen}', expected '{expected}'");
        }
    }

    /// <summary>The Stored cell (the last) of the job's row.</summary>
    static async Task<string> StoredAsync(DaemonTestBed bed, string job, CancellationToken ct)
    {
        var result = await ClientRunner.ExecutableAsync(["-c", bed.ConfigPath, "jobs"], ct);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Out, Does.Contain("Stored"));
        var row = result.Out.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith($"│ {job} ", StringComparison.Ordinal));
        Assert.That(row, Is.Not.Null, result.Out);
        return row!.Split('│').Select(c => c.Trim()).ToArray()[^2];
    }

    static async Task Worker(string job, CancellationToken ct, params string[] args)
    {
        var r = await WorkerProcess.RunAsync(job, ct, args);
        Assert.That(r.ExitCode, Is.Zero, $"{string.Join(' ', args)}: {r.StdErr}");
    }
}

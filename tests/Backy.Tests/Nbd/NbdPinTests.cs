using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Nbd;

/// <summary>
/// While a revision is served, forget, expire and purge go on (none waits for the server) and cannot take the
/// served chunks away; once the server stops, the next purge can.
/// </summary>
[Parallelizable(ParallelScope.None)]
public class NbdPinTests
{
    [Test, CancelAfter(180_000)]
    public async Task Forget_expire_and_purge_run_beside_a_connected_client_and_the_served_revision_stays_readable(CancellationToken ct)
    {
        Tool.Require("nbdcopy");
        using var t = new TestJob(schedule: "daily: {interval: 1d, keep: 1}");
        TestImages.WriteMixed(t.ImagePath, 5L * Blocks.Size + 1024, seed: 1);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var served = t.Job.CompleteRevisions()[^1].Id;
        var original = await File.ReadAllBytesAsync(t.ImagePath, ct);
        await using var server = await NbdServerProcess.StartAsync(t.JobPath, ct);
        // A client holds the export open (a raw GO: the connection stays in transmission).
        using var client = await RawNbdClient.ConnectAsync(server.Address, ct);
        await client.GreetAsync(ct);
        await client.GoAsync(served, ct);
        var chunks = t.ChunkFiles().Keys.ToHashSet();

        // A new backup of a completely different image, then the old revision goes.
        TestImages.WriteMixed(t.ImagePath, 5L * Blocks.Size + 1024, seed: 2);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var forget = await WorkerProcess.RunAsync(t.JobPath, ct, "forget", "-r", served);
        var expire = await WorkerProcess.RunAsync(t.JobPath, ct, "expire");
        var purge = await WorkerProcess.RunAsync(t.JobPath, ct, "purge");

        Assert.That(forget.ExitCode, Is.Zero, forget.StdErr);
        Assert.That(expire.ExitCode, Is.Zero, expire.StdErr);
        Assert.That(purge.ExitCode, Is.Zero, purge.StdErr);
        Assert.That(File.Exists(t.Job.RevisionPath(served)), Is.False, "the revision is gone from the job");
        Assert.That(chunks.All(File.Exists), "purge kept every chunk of the served revision");
        // The open export is still there by its id, for this and for new connections.
        await Tool.OkAsync("nbdcopy", ct, "--connections=4", server.Uri(served), t.PathIn("served"));
        Assert.That(await File.ReadAllBytesAsync(t.PathIn("served"), ct), Is.EqualTo(original));

        client.Dispose();
        Assert.That(await server.StopAsync(), Is.Zero, server.StdErr);
        var after = await WorkerProcess.RunAsync(t.JobPath, ct, "purge");
        Assert.That(after.ExitCode, Is.Zero, after.StdErr);
        Assert.That(chunks.Count(File.Exists), Is.LessThan(chunks.Count), "with the server gone its chunks are purge's again");
        Assert.That(Directory.GetFiles(Path.Combine(t.JobPath, "pins")), Is.Empty);
    }

    [Test, CancelAfter(180_000)]
    public async Task A_pin_left_by_a_killed_server_is_stale_and_purge_removes_it(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 2L * Blocks.Size, seed: 3);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var revision = t.Job.CompleteRevisions()[^1].Id;
        var server = await NbdServerProcess.StartAsync(t.JobPath, ct);
        using (var client = await RawNbdClient.ConnectAsync(server.Address, ct))
        {
            await client.GreetAsync(ct);
            await client.GoAsync(revision, ct);
        }
        var pins = Path.Combine(t.JobPath, "pins");
        Assert.That(Directory.GetFiles(pins), Has.Length.EqualTo(1));
        await server.KillAsync();
        await server.DisposeAsync();
        Assert.That(Directory.GetFiles(pins), Has.Length.EqualTo(1), "kill -9 leaves the pin file");

        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "forget", "-r", revision)).ExitCode, Is.Zero);
        var purge = await WorkerProcess.RunAsync(t.JobPath, ct, "purge");

        Assert.That(purge.ExitCode, Is.Zero, purge.StdErr);
        Assert.That(Directory.GetFiles(pins), Is.Empty, "nobody holds its lock: stale");
        Assert.That(t.ChunkFiles(), Is.Empty, "and it no longer keeps chunks");
    }
}

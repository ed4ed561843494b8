using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Nbd;

/// <summary>Clients that break the protocol get an error or a closed connection; the server keeps serving.</summary>
[Parallelizable(ParallelScope.None)]
public class NbdHostileClientTests
{
    private static async Task<(TestJob Job, NbdServerProcess Server)> ServeAsync(CancellationToken ct)
    {
        var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 2L * Blocks.Size + 512);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        return (t, await NbdServerProcess.StartAsync(t.JobPath, ct));
    }

    private static async Task AssertStillServesAsync(NbdServerProcess server, CancellationToken ct)
    {
        Assert.That(server.Exited.IsCompleted, Is.False, server.StdErr);
        var info = await Tool.OkAsync("nbdinfo", ct, server.Uri());
        Assert.That(info.Out, Does.Contain("export-size: " + (2L * Blocks.Size + 512)));
    }

    [Test, CancelAfter(120_000)]
    public async Task Bad_magic_huge_options_and_unknown_options_are_refused(CancellationToken ct)
    {
        Tool.Require("nbdinfo");
        var (t, server) = await ServeAsync(ct);
        using var _ = t;
        await using var __ = server;

        using (var c = await RawNbdClient.ConnectAsync(server.Address, ct))
        {
            await c.GreetAsync(ct);
            await c.WriteAsync([.. RawNbdClient.U64(0x1122334455667788), .. RawNbdClient.U32(7), .. RawNbdClient.U32(0)], ct);
            Assert.That(await c.ClosedByServerAsync(TimeSpan.FromSeconds(20)), "bad option magic closes the connection");
        }
        using (var c = await RawNbdClient.ConnectAsync(server.Address, ct))
        {
            await c.GreetAsync(ct);
            await c.WriteAsync([.. RawNbdClient.U64(0x49484156454F5054), .. RawNbdClient.U32(7), .. RawNbdClient.U32(0xfffffff0)], ct);
            Assert.That(await c.ClosedByServerAsync(TimeSpan.FromSeconds(20)), "a 4 GiB option is not read");
        }
        using (var c = await RawNbdClient.ConnectAsync(server.Address, ct))
        {
            await c.GreetAsync(ct);
            await c.SendOptionAsync(0x4242, [1, 2, 3], ct);
            var (type, message) = await c.ReadOptionReplyAsync(ct);
            Assert.That(type, Is.EqualTo(0x80000001u), "NBD_REP_ERR_UNSUP");
            Assert.That(System.Text.Encoding.UTF8.GetString(message), Does.Contain("not supported"));
            // The connection goes on: a GO for a name that does not exist is an error, not a hang-up.
            await c.SendOptionAsync(7, [.. RawNbdClient.U32(5), .. "nope!"u8.ToArray(), 0, 0], ct);
            Assert.That((await c.ReadOptionReplyAsync(ct)).Type, Is.EqualTo(0x80000006u), "NBD_REP_ERR_UNKNOWN");
        }
        using (var c = await RawNbdClient.ConnectAsync(server.Address, ct))
            await c.WriteAsync([1, 2, 3], ct); // garbage instead of client flags, then gone
        await AssertStillServesAsync(server, ct);
    }

    [Test, CancelAfter(120_000)]
    public async Task Reads_past_the_end_get_EINVAL_and_requests_after_disc_are_ignored(CancellationToken ct)
    {
        Tool.Require("nbdinfo");
        var (t, server) = await ServeAsync(ct);
        using var _ = t;
        await using var __ = server;

        using (var c = await RawNbdClient.ConnectAsync(server.Address, ct))
        {
            await c.GreetAsync(ct);
            var size = await c.GoAsync("", ct);
            await c.SendRequestAsync(0, 1, size - 100, 4096, ct);
            Assert.That(await c.ReadSimpleReplyAsync(ct), Is.EqualTo((22u, 1UL)), "NBD_EINVAL for a read past the end");
            await c.SendRequestAsync(0, 2, ulong.MaxValue - 10, 4096, ct);
            Assert.That(await c.ReadSimpleReplyAsync(ct), Is.EqualTo((22u, 2UL)), "an offset that overflows");
            await c.SendRequestAsync(1, 3, 0, 0, ct);
            Assert.That(await c.ReadSimpleReplyAsync(ct), Is.EqualTo((1u, 3UL)), "NBD_EPERM for a write to a read-only export");
            await c.SendRequestAsync(99, 4, 0, 512, ct);
            Assert.That(await c.ReadSimpleReplyAsync(ct), Is.EqualTo((22u, 4UL)), "unknown command");
            await c.SendRequestAsync(0, 5, 0, 512, ct);
            Assert.That((await c.ReadSimpleReplyAsync(ct)).Error, Is.Zero);
            await c.ReadAsync(512, ct);
            await c.SendRequestAsync(2, 6, 0, 0, ct); // NBD_CMD_DISC
            await c.SendRequestAsync(0, 7, 0, 512, ct); // must never be answered
            Assert.That(await c.ClosedByServerAsync(TimeSpan.FromSeconds(20)), "the server closes after NBD_CMD_DISC without answering more");
        }
        using (var c = await RawNbdClient.ConnectAsync(server.Address, ct))
        {
            await c.GreetAsync(ct);
            await c.GoAsync("", ct);
            // A write header announcing 1 GiB of payload: disconnect rather than read it.
            await c.SendRequestAsync(1, 1, 0, 1u << 30, ct);
            Assert.That(await c.ClosedByServerAsync(TimeSpan.FromSeconds(20)));
        }
        await AssertStillServesAsync(server, ct);
    }

    [Test, CancelAfter(180_000)]
    public async Task A_flood_of_1000_connections_is_bounded_and_the_server_serves_afterwards(CancellationToken ct)
    {
        Tool.Require("nbdinfo");
        var (t, server) = await ServeAsync(ct);
        using var _ = t;
        await using var __ = server;

        var clients = new List<RawNbdClient>();
        try
        {
            for (var i = 0; i < 1000; i++)
            {
                try { clients.Add(await RawNbdClient.ConnectAsync(server.Address, ct)); }
                catch (System.Net.Sockets.SocketException) { break; } // the listen backlog is full: also a bound
            }
            Assert.That(clients.Count, Is.GreaterThan(128));
            // Beyond the limit the server closes at once; within it, connections stay.
            var closed = 0;
            await Task.WhenAll(clients.Select(async c =>
            {
                if (await c.ClosedByServerAsync(TimeSpan.FromSeconds(5))) Interlocked.Increment(ref closed);
            }));
            Assert.That(closed, Is.GreaterThan(0).And.LessThanOrEqualTo(clients.Count - 128 + 1), "connections beyond 128 are refused");
            Assert.That(server.Exited.IsCompleted, Is.False, server.StdErr);
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
        // Slots come back once the flood is gone.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var info = await Tool.RunAsync("nbdinfo", ct, server.Uri());
            if (info.ExitCode == 0) break;
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), info.ToString());
            await Task.Delay(500, ct);
        }
        Assert.That(server.StdErr, Does.Contain("Refusing connection"));
    }
}

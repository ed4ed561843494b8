using System.Net;
using System.Net.Sockets;
using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Peers;

/// <summary>
/// A configured peer that accepts connections and never answers (issue 14.2, the peer half), against the real
/// daemon and a real listening socket: each peer call has a deadline, the run warns naming the peer and goes
/// on (expire, purge, no failure, no back-off). Before: every run failed after the backup with "The operation
/// was canceled", skipped expire and purge, and repeated the backup with back-off.
/// </summary>
public class HangingPeerTests
{
    /// <summary>A TCP listener that accepts every connection and then says nothing, ever.</summary>
    private sealed class SilentServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<Socket> _held = [];
        private readonly CancellationTokenSource _stop = new();

        public SilentServer()
        {
            _listener.Start();
            _ = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        var socket = await _listener.AcceptSocketAsync(_stop.Token);
                        lock (_held) _held.Add(socket);
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                }
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Accepted
        {
            get { lock (_held) return _held.Count; }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_held)
                foreach (var s in _held)
                    s.Dispose();
        }
    }

    [Test, CancelAfter(90_000)]
    public async Task A_peer_that_never_answers_is_a_warning_and_the_run_goes_on(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        using var silent = new SilentServer();
        File.WriteAllText(bed.ConfigPath, $$$"""
            global: {base-dir: {{{bed.BaseDir}}}, worker-limit: 1}
            {{{DaemonTestBed.ApiLine}}}
            peers:
              silent: {url: "http://127.0.0.1:{{{silent.Port}}}", token: t0ken}
            schedules:
              fast: {often: {interval: 2s, keep: 3}}
            jobs:
              a: {schedule: fast, source: {type: file, filename: {{{bed.Root}}}/a.img}}
            """);
        var daemon = DaemonProcess.Start(bed.ConfigPath, bed.LogPath, new Dictionary<string, string?>
        {
            ["BACKY_WORKER"] = bed.Worker.Path,
            ["BACKY_PEER_TIMEOUT"] = "2",
        });
        await using var _ = daemon;

        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("a: finished") || bed.Log.Contains("a: failed"), ct);
        daemon.Signal(Posix.SigTerm);
        Assert.That(await daemon.WaitForExitAsync(ct), Is.EqualTo(0), daemon.Stderr);

        Assert.That(silent.Accepted, Is.GreaterThan(0), "the daemon did connect to the peer");
        Assert.That(bed.Log, Does.Not.Contain("a: failed"));
        Assert.That(bed.Log, Does.Contain($"a: pull with peer silent (http://127.0.0.1:{silent.Port}/): no answer within 2 s, retried at the next run"));
        Assert.That(bed.Log, Does.Contain($"a: push with peer silent (http://127.0.0.1:{silent.Port}/): no answer within 2 s").Or.Not.Contain("a: push with peer silent"),
            "push only calls a peer with changed tags to send");
        var actions = bed.Worker.Records().Where(r => r is { Kind: "end", Job: "a" }).Select(r => r.Action).ToArray();
        Assert.That(actions, Is.SupersetOf(new[] { "backup", "expire", "purge" }), "expire and purge ran after the peer timed out");
        Assert.That(bed.Log, Does.Contain("a: finished"));
    }
}

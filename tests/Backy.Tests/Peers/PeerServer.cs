using System.Text.RegularExpressions;
using Backy.Tests.Api;
using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Peers;

/// <summary>
/// One of two real <c>backy-daemon</c> processes for the migration tests: its own temp directory,
/// base-dir and loopback port, the real <c>backy-worker</c>, and the real <c>backy client</c>
/// talking to it with its own cli token. Job "moved" (file source <see cref="Image"/>) runs on
/// schedule <c>fast</c> (tag <c>often</c> once a day, so it only runs when asked).
/// </summary>
internal sealed partial class PeerServer : IAsyncDisposable
{
    public const string Job = "moved";

    private readonly DaemonTestBed _bed = new();
    private DaemonProcess? _daemon;

    public PeerServer(string name) => Name = name;

    public string Name { get; }
    public int Port { get; } = ApiHarness.FreePort();
    public string Root => _bed.Root;
    public string Image => Path.Combine(_bed.Root, Job + ".img");
    public string JobDir => _bed.JobDir(Job);
    public string Log => _bed.Log;

    private static string RealWorker => Path.Combine(TestContext.CurrentContext.TestDirectory, "backy-worker");

    /// <summary>The token <paramref name="caller"/> presents to this server (in this server's api.tokens).</summary>
    private string TokenFor(PeerServer caller) => $"{caller.Name}-calls-{Name}";

    /// <summary>Writes the whole configuration: with <paramref name="runsJob"/> the job "moved",
    /// with <paramref name="peer"/> that server under <c>peers:</c> (and its token accepted here).</summary>
    public void WriteConfig(bool runsJob, PeerServer? peer, int keep)
    {
        var tokens = peer is null ? "" : $"    {peer.TokenFor(this)}: {peer.Name}\n";
        var peers = peer is null ? "" : $"peers:\n  {peer.Name}: {{url: 'http://127.0.0.1:{peer.Port}', token: {TokenFor(peer)}}}\n";
        var jobs = runsJob ? $"jobs:\n  {Job}: {{schedule: fast, source: {{type: file, filename: {Image}}}}}\n" : "";
        File.WriteAllText(_bed.ConfigPath,
            $"global: {{base-dir: {_bed.BaseDir}}}\n" +
            $"api:\n  addrs: 127.0.0.1\n  port: {Port}\n  tokens:\n    cli-{Name}: cli\n{tokens}  cli-default: {{token: cli-{Name}}}\n" +
            peers +
            $"schedules:\n  fast: {{often: {{interval: 1d, keep: {keep}}}}}\n" +
            jobs);
    }

    /// <summary>Starts the daemon and returns once its API listens (a peer's next call must reach it).</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        var listening = ListeningLine().Count(Log);
        var daemon = _daemon = DaemonProcess.Start(_bed.ConfigPath, _bed.LogPath, new Dictionary<string, string?>
        {
            ["BACKY_WORKER"] = RealWorker,
            ["BACKY_WORKER_GRACE"] = "10",
        });
        await DaemonTestBed.WaitUntilAsync(() => ListeningLine().Count(Log) > listening || daemon.HasExited, ct);
        Assert.That(daemon.HasExited, Is.False, $"{Name} did not start\n{daemon.Stderr}\n{Log}");
    }

    /// <summary>SIGTERM, as systemd stops it; the daemon must exit 0.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        var daemon = _daemon ?? throw new InvalidOperationException($"{Name} is not running");
        _daemon = null;
        daemon.Signal(Posix.SigTerm);
        var exit = await daemon.WaitForExitAsync(ct);
        await daemon.DisposeAsync();
        Assert.That(exit, Is.EqualTo(0), $"{Name} exit status\n{daemon.Stderr}");
    }

    /// <summary><c>backy client -c CONFIG ARGS</c> (the real executable).</summary>
    public Task<ClientRunner.Result> ClientAsync(CancellationToken ct, params string[] args) =>
        ClientRunner.ExecutableAsync(["-c", _bed.ConfigPath, .. args], ct);

    public async Task ReloadAsync(CancellationToken ct)
    {
        var result = await ClientAsync(ct, "reload");
        Assert.That(result.ExitCode, Is.EqualTo(0), $"{Name}: reload\n{result}");
    }

    /// <summary><c>backy client run moved</c>, then waits until this daemon logs the end of that
    /// run; asserts that it succeeded.</summary>
    public async Task RunJobAsync(CancellationToken ct)
    {
        var (finished, failed) = Ends();
        var result = await ClientAsync(ct, "run", Job);
        Assert.That(result.ExitCode, Is.EqualTo(0), $"{Name}: run {Job}\n{result}");
        await DaemonTestBed.WaitUntilAsync(() => Ends() != (finished, failed), ct);
        Assert.That(Ends().Failed, Is.EqualTo(failed), $"{Name}: the run of {Job} failed\n{Log}");
    }

    private (int Finished, int Failed) Ends()
    {
        var log = Log;
        return (FinishedLine().Count(log), FailedLine().Count(log));
    }

    [GeneratedRegex(": api listening on ")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(": moved: finished in ")]
    private static partial Regex FinishedLine();

    [GeneratedRegex(": moved: failed ")]
    private static partial Regex FailedLine();

    public async ValueTask DisposeAsync()
    {
        // A failed test still stops the daemon cleanly so that it terminates its workers.
        if (_daemon is { HasExited: false } daemon)
        {
            daemon.Signal(Posix.SigTerm);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try { await daemon.WaitForExitAsync(grace.Token); }
            catch (OperationCanceledException) { }
            await daemon.DisposeAsync();
        }
        await _bed.DisposeAsync();
    }
}

using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Cli;

/// <summary>
/// The daemon's start-up messages (issue 14, item 10), from the real <c>backy-daemon</c>: each mistake
/// is one line naming the thing and the reason, exit 1.
/// </summary>
[CancelAfter(60_000)]
public class DaemonMessageTests
{
    [TestCase("-c")]
    [TestCase("--logfile")]
    public async Task An_option_without_its_value_says_so(string option, CancellationToken ct)
    {
        var result = await Editing.CommandRunner.ProcessAsync("backy-daemon", [option], ct);

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Err, Is.EqualTo($"backy-daemon: option '{option}' needs a value (usage: backy-daemon [-c CONFIG] [-l LOGFILE] [-v])\n"));
    }

    [Test]
    public async Task An_api_port_in_use_at_start_is_fatal_with_one_line_and_no_backup(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((System.Net.IPEndPoint)squatter.LocalEndpoint).Port;
        bed.WriteConfig("1s", 1, "a");
        File.WriteAllText(bed.ConfigPath, File.ReadAllText(bed.ConfigPath).Replace(DaemonTestBed.ApiLine, $"api: {{addrs: 127.0.0.1, port: {port}}}"));
        using var notify = new NotifySocket();

        var daemon = bed.StartDaemon(notify);
        var exit = await daemon.WaitForExitAsync(ct);

        Assert.That(exit, Is.EqualTo(1), daemon.Stderr);
        var lines = daemon.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), daemon.Stderr);
        Assert.That(lines[0], Does.Contain($"daemon not started: api: cannot listen on 127.0.0.1 port {port} - ").And.Contain("address already in use"));
        Assert.That(notify.Messages, Does.Not.Contain("READY=1"));
        Assert.That(bed.Worker.Records(), Is.Empty, "no job may run before the API listens");
    }

    [Test]
    public async Task One_broken_schedule_is_one_error_not_one_more_per_job_using_it(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        File.WriteAllText(bed.ConfigPath, $"""
            global: {"{"}base-dir: {bed.BaseDir}{"}"}
            {DaemonTestBed.ApiLine}
            schedules:
              s: {"{"}daily: {"{"}interval: 1 fortnight, keep: 3{"}"}{"}"}
            jobs:
              a: {"{"}schedule: s, source: {"{"}type: file, filename: /a{"}"}{"}"}
              b: {"{"}schedule: s, source: {"{"}type: file, filename: /b{"}"}{"}"}
              c: {"{"}schedule: s, source: {"{"}type: file, filename: /c{"}"}{"}"}
            """);

        var daemon = bed.StartDaemon();
        var exit = await daemon.WaitForExitAsync(ct);

        Assert.That(exit, Is.EqualTo(1), daemon.Stderr);
        Assert.That(daemon.Stderr, Does.Contain($"{bed.ConfigPath}:4: schedules.s.daily.interval").And.Contain("1 configuration error(s)"));
        Assert.That(daemon.Stderr, Does.Not.Contain("unknown schedule"));
    }
}

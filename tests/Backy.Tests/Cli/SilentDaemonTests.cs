using Backy.Tests.Api;

namespace Backy.Tests.Cli;

/// <summary>
/// A daemon that accepts connections but never answers (issue 14, item 2): the real <c>backy</c>
/// executable gives up after <c>--timeout</c> with one line, exit 1, and <c>check</c> says UNKNOWN
/// with exit 3 on stdout where Nagios reads it. Before: an unhandled TaskCanceledException after
/// 60 s, exit 134.
/// </summary>
[CancelAfter(60_000)]
public class SilentDaemonTests
{
    [Test]
    public async Task Check_of_a_silent_daemon_is_one_UNKNOWN_line_and_exit_3(CancellationToken ct)
    {
        await using var silent = new SilentDaemon();

        var result = await ClientRunner.ExecutableAsync(["--url", silent.Url, "--token", "t", "--timeout", "1.5", "check"], ct);

        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.Out, Is.EqualTo($"UNKNOWN - the backy daemon at {silent.Url}/ did not answer within 1.5 s (--timeout)\n"), result.ToString());
        Assert.That(result.Err, Does.Not.Contain("Exception").And.Not.Contain("   at "));
        Assert.That(silent.Accepted, Is.GreaterThan(0), "the client must have connected");
    }

    [TestCase("jobs")]
    [TestCase("status")]
    [TestCase("run", "a")]
    public async Task Other_actions_on_a_silent_daemon_print_one_line_and_exit_1(params string[] action)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(50));
        await using var silent = new SilentDaemon();
        var config = Path.Join(Path.GetTempPath(), $"backy-silent-{Guid.NewGuid():N}.conf");
        // Through -c, as an operator calls it: the local daemon's port and token from the configuration.
        File.WriteAllText(config, $"api: {{addrs: 127.0.0.1, port: {silent.Port}, tokens: {{t: cli}}, cli-default: {{token: t}}}}\n");
        try
        {
            var result = await ClientRunner.ExecutableAsync(["-c", config, "--timeout", "1", .. action], cts.Token);

            Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
            Assert.That(result.Err, Does.EndWith($"backy client: the backy daemon at {silent.Url}/ did not answer within 1 s (--timeout)\n"), result.ToString());
            Assert.That(result.Out, Is.Empty);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Test]
    public async Task A_timeout_that_is_not_a_positive_number_is_refused(CancellationToken ct)
    {
        var result = await ClientRunner.ExecutableAsync(["--url", "http://127.0.0.1:1", "--token", "t", "--timeout", "0", "status"], ct);

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Err, Does.Contain("--timeout must be a number of seconds"));
    }
}

using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Progress;

/// <summary>A backup run by hand draws a progress bar on stderr only when stderr is a terminal: a real
/// <c>backy backup</c> (and <c>backy-worker backup</c>) with stderr on a pipe, and the same under <c>script</c> (a
/// pseudo-terminal).</summary>
public class TerminalProgressTests
{
    private static string Executable(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, name);

    private static string NewJob()
    {
        var root = Directory.CreateTempSubdirectory("backy-bar-test-").FullName;
        var image = Path.Combine(root, "vm.img");
        var data = new byte[(9 << 20) + 5];
        new Random(3).NextBytes(data);
        File.WriteAllBytes(image, data);
        Directory.CreateDirectory(Path.Combine(root, "job"));
        File.WriteAllText(Path.Combine(root, "job", "config"), $"source: {{type: file, filename: {image}}}\nschedule: {{daily: {{interval: 1d, keep: 3}}}}\n");
        return root;
    }

    [TestCase("backy-worker"), TestCase("backy"), CancelAfter(60_000)]
    public async Task A_backup_with_stderr_on_a_pipe_writes_no_progress_and_no_escape_sequences(string program, CancellationToken ct)
    {
        var root = NewJob();
        try
        {
            var r = await CliWrap.Cli.Wrap(Executable(program)).WithArguments(["-b", Path.Combine(root, "job"), "backup", "manual:piped"])
                .WithEnvironmentVariables(env => env.Set("TERM", "xterm-256color").Set("BACKY_PROGRESS", null))
                .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(ct);

            Assert.That(r.ExitCode, Is.Zero, r.StandardError);
            Assert.That(r.StandardError, Does.Contain("Backup of job finished"), "the log still goes to stderr");
            Assert.That(r.StandardError, Does.Not.Contain("\u001b"), "no escape sequences in a pipe");
            Assert.That(r.StandardError, Does.Not.Contain("backy-progress"), "progress lines are for the daemon only");
            Assert.That(File.ReadAllText(Path.Combine(root, "job", "backy.log")), Does.Not.Contain("\u001b").And.Not.Contain("backy-progress"));
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [TestCase("backy-worker"), TestCase("backy"), CancelAfter(60_000)]
    public async Task A_backup_on_a_terminal_draws_a_progress_bar_on_stderr(string program, CancellationToken ct)
    {
        if (!File.Exists("/usr/bin/script")) Assert.Ignore("script (util-linux) is not installed");
        var root = NewJob();
        try
        {
            var job = Path.Combine(root, "job");
            // script gives the worker a pseudo-terminal as stdin, stdout and stderr and copies what it draws to our pipe.
            var r = await CliWrap.Cli.Wrap("/usr/bin/script")
                .WithArguments(["-q", "-e", "-c", $"'{Executable(program)}' -b '{job}' backup manual:tty", "/dev/null"])
                .WithEnvironmentVariables(env => env.Set("TERM", "xterm-256color").Set("BACKY_PROGRESS", null))
                .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(ct);

            Assert.That(r.ExitCode, Is.Zero, r.StandardOutput + r.StandardError);
            Assert.That(r.StandardOutput, Does.Contain("\u001b["), "a terminal gets the bar's escape sequences");
            Assert.That(r.StandardOutput, Does.Contain("backup ").And.Contain(" blocks"), "the bar's description");
            Assert.That(r.StandardOutput, Does.Contain("Backup of job finished"), "log lines are shown beside the bar");
            Assert.That(File.ReadAllText(Path.Combine(job, "backy.log")), Does.Not.Contain("\u001b"), "the log file never gets the bar");
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}

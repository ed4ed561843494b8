using Backy.Tests.Api;
using Backy.Tests.Daemon.Support;
using CliWrap;
using static Backy.Tests.Editing.CommandRunner;

namespace Backy.Tests.Cli;

/// <summary>
/// The manual's own examples, run as written (issue 14, item 4): <c>backy -c CONF -l LOG scheduler</c>,
/// <c>backy client -c CONF jobs</c>, <c>backy -b DIR status</c>, and the option places the synopsis
/// allows (<c>backy [GLOBAL OPTIONS] client [CLIENT OPTIONS] ACTION</c>). Before: the first said
/// "Unrecognized command or argument '-c'".
/// </summary>
public class ManualExampleTests
{
    [Test, CancelAfter(90_000)]
    public async Task The_manuals_scheduler_and_client_examples_work_as_written(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("1h", 1, "test01");
        var port = ApiHarness.FreePort();
        File.WriteAllText(bed.ConfigPath, File.ReadAllText(bed.ConfigPath).Replace(DaemonTestBed.ApiLine + "\n", "") + $"api: {{addrs: 127.0.0.1, port: {port}, tokens: {{t: cli}}, cli-default: {{token: t}}}}\n"); // the bed's own api line would be a duplicate key
        using var notify = new NotifySocket();
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var scheduler = CliWrap.Cli.Wrap(Path.Join(AppContext.BaseDirectory, BackyExe))
            .WithArguments(["-c", bed.ConfigPath, "-l", bed.LogPath, "scheduler"])
            .WithEnvironmentVariables(env => env.Set("BACKY_WORKER", bed.Worker.Path).Set("NOTIFY_SOCKET", notify.Path))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(kill.Token);
        try
        {
            await notify.WaitForAsync("READY=1", ct);
            Assert.That(bed.Log, Does.Contain("api listening"), "the -l before the command is the scheduler's log");

            foreach (string[] args in new[]
            {
                new[] { "client", "-c", bed.ConfigPath, "jobs" },   // the manual's example
                ["-c", bed.ConfigPath, "client", "jobs"],           // -c as a global option
                ["client", "jobs", "-c", bed.ConfigPath],           // after the action
                ["-v", "client", "-c", bed.ConfigPath, "jobs"],     // [GLOBAL OPTIONS] client [CLIENT OPTIONS] ACTION
            })
            {
                var jobs = await ProcessAsync(BackyExe, args, ct);
                Assert.That(jobs.ExitCode, Is.EqualTo(0), string.Join(' ', args) + "\n" + jobs);
                Assert.That(jobs.Out, Does.Contain("test01").And.Contain("1 job shown"), string.Join(' ', args));
            }
        }
        finally
        {
            await kill.CancelAsync();
            try { await scheduler; } catch (OperationCanceledException) { }
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task Scheduler_takes_c_after_the_command_too(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        File.WriteAllText(bed.ConfigPath, "global: {base-dir: relative}\n");

        var result = await ProcessAsync(BackyExe, ["scheduler", "-c", bed.ConfigPath, "-l", bed.LogPath], ct);

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Err, Does.Contain(bed.ConfigPath).And.Contain("global.base-dir"), "the configuration given was read");
    }

    [Test, CancelAfter(60_000)]
    public async Task Status_with_b_before_the_command_reads_that_directory(CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("backy-manual-").FullName;
        try
        {
            var result = await ProcessAsync(BackyExe, ["-b", dir, "status"], ct);

            Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
            Assert.That(result.Out, Does.Contain("0 revisions"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task A_job_command_refuses_c_instead_of_ignoring_it(CancellationToken ct)
    {
        var result = await ProcessAsync(BackyExe, ["-c", "/etc/backy.conf", "status"], ct);

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Err, Does.Contain("-c/--config applies to the scheduler and client commands only, not to 'status'"));
    }
}

using System.CommandLine;
using Backy.Cli;
using Backy.Worker;
using static Backy.Tests.Editing.CommandRunner;

namespace Backy.Tests.Editing;

/// <summary><c>-h</c>/<c>--help</c> at every level of <c>backy</c> and <c>backy-worker</c>.</summary>
public class HelpTests
{
    private static readonly string[] JobCommands = ["backup", "restore", "purge", "status", "upgrade", "verify", "distrust", "forget", "tags", "expire"];

    [TestCase(WorkerExe, "-h")]
    [TestCase(BackyExe, "--help")]
    [CancelAfter(30_000)]
    public async Task Root_help_lists_every_job_command_of_the_manual(string exe, string flag, CancellationToken ct)
    {
        var result = await ProcessAsync(exe, [flag], ct);
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(JobCommands, Has.All.Matches<string>(c => result.Out.Contains("  " + c)), result.ToString());
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Tags_help_of_both_executables_is_the_same(CancellationToken ct)
    {
        var worker = await ProcessAsync(WorkerExe, ["tags", "-h"], ct);
        var backy = await ProcessAsync(BackyExe, ["tags", "--help"], ct);
        Assert.That((worker.ExitCode, backy.ExitCode), Is.EqualTo((0, 0)), worker + "\n" + backy);
        Assert.That(worker.Out, Does.Contain("--autoremove").And.Contain("--expect").And.Contain("<REVISION>"));
        Assert.That(worker.Out.Replace(WorkerExe + " tags", "X tags"), Is.EqualTo(backy.Out.Replace(BackyExe + " tags", "X tags")));
    }

    /// <summary>Every command of the backy tree, as Backy.Cli's Program composes it.</summary>
    private static IEnumerable<string[]> AllCommandPaths()
    {
        var root = BackyCommandLine.CreateRoot();
        return Walk(root, []);

        static IEnumerable<string[]> Walk(Command command, string[] path)
        {
            yield return path;
            foreach (var sub in command.Subcommands)
                foreach (var p in Walk(sub, [.. path, sub.Name]))
                    yield return p;
        }
    }

    [TestCaseSource(nameof(AllCommandPaths))]
    public async Task Help_works_at_every_level(string[] path)
    {
        foreach (var flag in new[] { "-h", "--help" })
        {
            var root = BackyCommandLine.CreateRoot();
            var output = new StringWriter();
            var exit = await root.Parse([.. path, flag]).InvokeAsync(new InvocationConfiguration { Output = output, Error = output });
            Assert.That(exit, Is.Zero, output.ToString());
            Assert.That(output.ToString(), Does.Contain("Usage:").And.Contain(string.Join(' ', path)));
        }
    }
}

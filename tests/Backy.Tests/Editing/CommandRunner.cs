using System.CommandLine;
using Backy.Worker;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Editing;

/// <summary>
/// Runs job commands: as the built <c>backy</c> and <c>backy-worker</c> executables (copied beside
/// the test assembly by the project references) in real child processes, or in this process
/// through the same command line (a process start costs most of a second on a loaded machine).
/// </summary>
internal static class CommandRunner
{
    public const string WorkerExe = "backy-worker";
    public const string BackyExe = "backy";

    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}--- stderr\n{Err}";
    }

    public static async Task<Result> ProcessAsync(string executable, IEnumerable<string> args, CancellationToken ct)
    {
        var result = await CliWrap.Cli.Wrap(Path.Join(AppContext.BaseDirectory, executable))
            .WithArguments(args)
            .WithEnvironmentVariables(env => env.Set("TZ", "UTC"))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(ct);
        return new Result(result.ExitCode, result.StandardOutput, result.StandardError);
    }

    public static async Task<Result> InProcessAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await JobCommandLine.CreateRoot().Parse(args)
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        return new Result(exit, output.ToString(), error.ToString());
    }
}

using System.CommandLine;
using Backy.Cli;
using Backy.Worker;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Api;

/// <summary>Runs <c>backy client ...</c>: in process through the real command line, or as the real
/// <c>backy</c> executable.</summary>
internal static class ClientRunner
{
    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}--- stderr\n{Err}";
    }

    public static async Task<Result> InProcessAsync(params string[] args)
    {
        var root = BackyCommandLine.CreateRoot();
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await root.Parse(["client", .. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return new Result(exit, output.ToString(), error.ToString());
    }

    /// <param name="taskId">Passed as the global <c>-t</c>.</param>
    /// <param name="verbose">Passes the global <c>-v</c> (diagnostic log lines on stderr).</param>
    public static async Task<Result> ExecutableAsync(string[] args, CancellationToken ct, string timeZone = "UTC",
        string? taskId = null, bool verbose = false)
    {
        string[] global = [.. verbose ? ["-v"] : Array.Empty<string>(), .. taskId is null ? [] : new[] { "-t", taskId }];
        var result = await CliWrap.Cli.Wrap(Path.Join(AppContext.BaseDirectory, "backy"))
            .WithArguments([.. global, "client", .. args])
            .WithEnvironmentVariables(env => env.Set("TZ", timeZone))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(ct);
        return new Result(result.ExitCode, result.StandardOutput, result.StandardError);
    }
}

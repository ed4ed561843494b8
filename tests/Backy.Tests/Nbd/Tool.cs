using System.Text;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Nbd;

/// <summary>Runs an NBD client tool (nbdinfo, nbdcopy, qemu-img, qemu-io, ...) and captures what it says.</summary>
public static class Tool
{
    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    public static async Task<Result> RunAsync(string program, CancellationToken ct, params string[] args)
    {
        var r = await CliWrap.Cli.Wrap(program).WithArguments(args).WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(Encoding.UTF8, ct);
        return new Result(r.ExitCode, r.StandardOutput, r.StandardError);
    }

    /// <summary>Runs and asserts exit 0.</summary>
    public static async Task<Result> OkAsync(string program, CancellationToken ct, params string[] args)
    {
        var r = await RunAsync(program, ct, args);
        Assert.That(r.ExitCode, Is.Zero, $"{program} {string.Join(' ', args)}\n{r}");
        return r;
    }

    public static bool Exists(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, program)));

    public static void Require(params string[] programs)
    {
        foreach (var p in programs)
            if (!Exists(p)) Assert.Fail($"{p} is not installed (scripts/install-deps installs it)");
    }
}

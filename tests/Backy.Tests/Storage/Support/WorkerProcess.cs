using System.Text;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Storage.Support;

/// <summary>Runs the real <c>backy-worker</c> built next to the test assembly, as a child process.</summary>
public static class WorkerProcess
{
    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "backy-worker");

    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static async Task<Result> RunAsync(string jobDir, CancellationToken cancellationToken, params string[] args)
    {
        var r = await Command(jobDir, args).ExecuteBufferedAsync(Encoding.UTF8, cancellationToken);
        return new Result(r.ExitCode, r.StandardOutput, r.StandardError);
    }

    /// <summary>Runs with stdout captured as bytes (restore to <c>-</c>).</summary>
    public static async Task<(int ExitCode, byte[] StdOut, string StdErr)> RunBinaryAsync(string jobDir, CancellationToken cancellationToken, params string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new StringBuilder();
        var r = await Command(jobDir, args)
            .WithStandardOutputPipe(PipeTarget.ToStream(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync(cancellationToken);
        return (r.ExitCode, stdout.ToArray(), stderr.ToString());
    }

    /// <summary>The bytes of <c>restore -r REVISION -</c>; the test fails when the restore does.</summary>
    public static async Task<byte[]> RestoreBytesAsync(string jobDir, string revision, CancellationToken cancellationToken)
    {
        var r = await RunBinaryAsync(jobDir, cancellationToken, "restore", "-r", revision, "-");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        return r.StdOut;
    }

    /// <summary>A running <c>purge</c> and its growing stderr.</summary>
    public sealed record RunningPurge(CommandTask<CommandResult> Task, StringBuilder StdErr);

    /// <summary>
    /// Starts <c>purge</c> while the caller holds a lock purge needs, and returns once purge says it waits
    /// for it: from then on the caller can check that purge has not gone ahead, then release the lock.
    /// </summary>
    public static async Task<RunningPurge> StartWaitingPurgeAsync(string jobDir, CancellationToken cancellationToken)
    {
        var waiting = new TaskCompletionSource();
        var stderr = new StringBuilder();
        var purge = Command(jobDir, "purge")
            .WithStandardErrorPipe(PipeTarget.Merge(PipeTarget.ToStringBuilder(stderr), PipeTarget.ToDelegate(line =>
            {
                if (line.Contains("Waiting for running restores")) waiting.TrySetResult();
            })))
            .ExecuteAsync(cancellationToken);
        await waiting.Task.WaitAsync(cancellationToken);
        return new RunningPurge(purge, stderr);
    }

    public static Command Command(string jobDir, params string[] args) =>
        CliWrap.Cli.Wrap(Path)
            .WithArguments(["-b", jobDir, .. args])
            .WithValidation(CommandResultValidation.None);
}

using System.Text;
using Backy.Storage;
using CliWrap;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Workers;

/// <summary>
/// The only place the daemon starts processes (<c>backy-worker</c> and the completion callback).
/// Exit codes are validated; stderr goes line by line into the daemon log; on cancellation the
/// child gets SIGTERM and, after the grace period, is killed with its process tree, so a stopping
/// daemon leaves no orphans.
/// </summary>
public sealed partial class WorkerLauncher(WorkerLauncherOptions options, ILogger<WorkerLauncher> logger)
{
    /// <summary>How many stderr lines an error message carries (the rest is in the log).</summary>
    private const int StderrTailLines = 5;

    public WorkerLauncherOptions Options => options;

    /// <summary>Runs <c>backy-worker ARGS</c>; returns its stdout.</summary>
    public Task<string> RunWorkerAsync(IReadOnlyList<string> args, CancellationToken cancellationToken) =>
        RunAsync(options.WorkerPath, args, stdin: null, cancellationToken);

    /// <summary>Runs the completion callback as <c>CALLBACK JOB</c> with <paramref name="stdin"/>;
    /// its output is logged.</summary>
    public async Task RunCallbackAsync(string callback, string job, string stdin, CancellationToken cancellationToken)
    {
        var stdout = await RunAsync(callback, [job], stdin, cancellationToken).ConfigureAwait(false);
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            LogCallbackOutput(logger, line);
    }

    private async Task<string> RunAsync(string executable, IReadOnlyList<string> args, string? stdin, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var name = Path.GetFileName(executable);
        var stdout = new StringBuilder();
        var tail = new Queue<string>();
        var command = Cli.Wrap(executable)
            .WithArguments(args)
            .WithValidation(CommandResultValidation.None) // checked below, with stderr in the message
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(line =>
            {
                LogStderr(logger, name, line);
                lock (tail)
                {
                    tail.Enqueue(line);
                    if (tail.Count > StderrTailLines)
                        tail.Dequeue();
                }
            }));
        if (stdin is not null)
            command = command.WithStandardInputPipe(PipeSource.FromString(stdin));

        using var forceful = new CancellationTokenSource();
        CommandTask<CommandResult> task;
        try
        {
            task = command.ExecuteAsync(forceful.Token);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new BackyException($"cannot start '{executable}' - {e.Message}", e);
        }
        LogStarted(logger, name, string.Join(' ', args), task.ProcessId);

        var pid = task.ProcessId;
        await using var onCancel = cancellationToken.Register(() =>
        {
            LogTerminating(logger, name, pid, options.GracePeriod.TotalSeconds);
            Signals.Terminate(pid);
            forceful.CancelAfter(options.GracePeriod);
        });

        CommandResult result;
        try
        {
            result = await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (forceful.IsCancellationRequested)
        {
            LogKilled(logger, name, pid);
            throw new OperationCanceledException($"{name} killed after the grace period", cancellationToken);
        }
        cancellationToken.ThrowIfCancellationRequested(); // stopped by SIGTERM: not a failure of the job
        if (result.ExitCode != 0)
        {
            string text;
            lock (tail)
                text = string.Join('\n', tail);
            throw new ExternalCommandException($"{name} {string.Join(' ', args)}", result.ExitCode, text);
        }
        LogFinished(logger, name, result.RunTime.TotalSeconds);
        return stdout.ToString();
    }

    [LoggerMessage(EventId = 4100, Level = LogLevel.Debug, Message = "started {Program} {Arguments} (pid {Pid})")]
    private static partial void LogStarted(ILogger logger, string program, string arguments, int pid);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "{Program}: {Line}")]
    private static partial void LogStderr(ILogger logger, string program, string line);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Debug, Message = "{Program} finished in {Seconds:0.0} s")]
    private static partial void LogFinished(ILogger logger, string program, double seconds);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "stopping {Program} (pid {Pid}): SIGTERM, kill after {Grace} s")]
    private static partial void LogTerminating(ILogger logger, string program, int pid, double grace);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning, Message = "{Program} (pid {Pid}) ignored SIGTERM; killed")]
    private static partial void LogKilled(ILogger logger, string program, int pid);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Information, Message = "callback: {Line}")]
    private static partial void LogCallbackOutput(ILogger logger, string line);
}

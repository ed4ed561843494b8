using System.Text;
using Backy.Storage;
using Backy.Storage.Progress;
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

    /// <summary>How much of a callback's stdout and of its stderr the log keeps (each): enough for any
    /// error message, bounded against a callback that prints without end.</summary>
    public const int CallbackOutputLimit = 4096;

    /// <summary>Runs <c>backy-worker ARGS</c>; returns its stdout. With <paramref name="progress"/>, the worker is
    /// asked for <see cref="ProgressLine"/>s on stderr (<c>BACKY_PROGRESS=lines</c>), which go there instead of into the
    /// log; it is cleared when the worker ends, however it ends.</summary>
    /// <exception cref="ExternalCommandException">Non-zero exit, with the last stderr lines.</exception>
    public async Task<string> RunWorkerAsync(IReadOnlyList<string> args, CancellationToken cancellationToken, RunProgress? progress = null)
    {
        var stdout = new StringBuilder();
        ProcessResult result;
        try
        {
            result = await RunAsync(options.WorkerPath, args, stdin: null, PipeTarget.ToStringBuilder(stdout), logStderr: true, cancellationToken,
                progress: progress).ConfigureAwait(false);
        }
        finally { progress?.Clear(); }
        if (result.ExitCode != 0)
            throw new ExternalCommandException($"{Path.GetFileName(options.WorkerPath)} {string.Join(' ', args)}", result.ExitCode, result.StderrTail);
        return stdout.ToString();
    }

    /// <summary>
    /// Runs the completion callback as <c>CALLBACK JOB</c> with <paramref name="stdin"/>. It reports on a
    /// backup that already succeeded, so nothing about it can fail the run (issue 14.5): a non-zero exit,
    /// or a callback that cannot be started, is one Warning with the exit code and the callback's stdout
    /// and stderr (each bounded by <see cref="CallbackOutputLimit"/>). Only a stop (cancellation) propagates.
    /// </summary>
    public async Task RunCallbackAsync(string callback, string job, string stdin, CancellationToken cancellationToken)
    {
        var stdout = new BoundedText(CallbackOutputLimit);
        var stderr = new BoundedText(CallbackOutputLimit);
        ProcessResult result;
        try
        {
            result = await RunAsync(callback, [job], stdin, PipeTarget.ToDelegate(stdout.AppendLine), logStderr: false, cancellationToken,
                PipeTarget.ToDelegate(stderr.AppendLine)).ConfigureAwait(false);
        }
        catch (BackyException e)
        {
            LogCallbackNotStarted(logger, callback, job, e.Message);
            return;
        }
        if (result.ExitCode != 0)
        {
            LogCallbackFailed(logger, callback, job, result.ExitCode, stdout.ToString(), stderr.ToString());
            return;
        }
        foreach (var line in stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            LogCallbackOutput(logger, line);
        foreach (var line in stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            LogCallbackOutput(logger, line);
    }

    private readonly record struct ProcessResult(int ExitCode, string StderrTail);

    private async Task<ProcessResult> RunAsync(string executable, IReadOnlyList<string> args, string? stdin, PipeTarget stdoutTarget,
        bool logStderr, CancellationToken cancellationToken, PipeTarget? stderrTarget = null, RunProgress? progress = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var name = Path.GetFileName(executable);
        var tail = new Queue<string>();
        var command = Cli.Wrap(executable)
            .WithArguments(args)
            .WithValidation(CommandResultValidation.None) // checked by the callers, with stderr in the message
            .WithStandardOutputPipe(stdoutTarget)
            // Only a run that shows progress asks for it; null removes a BACKY_PROGRESS the daemon itself inherited.
            .WithEnvironmentVariables(env => env.Set(ProgressLine.EnvironmentVariable, progress is null ? null : ProgressLine.LinesValue))
            .WithStandardErrorPipe(PipeTarget.Merge(PipeTarget.ToDelegate(line =>
            {
                if (ProgressLine.IsProgress(line))
                {
                    // Not a log line, nor an error message's tail: how far the worker is, once a second.
                    if (ProgressLine.TryParse(line) is { } estimate) progress?.Report(estimate);
                    return;
                }
                if (logStderr)
                    LogStderr(logger, name, line);
                lock (tail)
                {
                    tail.Enqueue(line);
                    if (tail.Count > StderrTailLines)
                        tail.Dequeue();
                }
            }), stderrTarget ?? PipeTarget.Null));
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
        if (result.ExitCode == 0)
            LogFinished(logger, name, result.RunTime.TotalSeconds);
        lock (tail)
            return new ProcessResult(result.ExitCode, string.Join('\n', tail));
    }

    /// <summary>The first <c>limit</c> characters of a stream of lines, and a note of how much was cut.</summary>
    private sealed class BoundedText(int limit)
    {
        private readonly StringBuilder _text = new();
        private long _dropped;

        public void AppendLine(string line)
        {
            lock (_text)
            {
                if (_text.Length + line.Length + 1 <= limit)
                    _text.Append(line).Append('\n');
                else
                    _dropped += line.Length + 1;
            }
        }

        public override string ToString()
        {
            lock (_text)
            {
                var text = _text.ToString().TrimEnd('\n');
                return _dropped > 0 ? $"{text}\n[{_dropped} more characters not kept]" : text;
            }
        }
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

    [LoggerMessage(EventId = 4106, Level = LogLevel.Warning, Message = "backup-completed-callback {Callback} {Job} exited with {ExitCode} (the backup stands; not retried); stdout: {Stdout}; stderr: {Stderr}")]
    private static partial void LogCallbackFailed(ILogger logger, string callback, string job, int exitCode, string stdout, string stderr);

    [LoggerMessage(EventId = 4107, Level = LogLevel.Warning, Message = "backup-completed-callback {Callback} {Job} not run (the backup stands): {Reason}")]
    private static partial void LogCallbackNotStarted(ILogger logger, string callback, string job, string reason);
}

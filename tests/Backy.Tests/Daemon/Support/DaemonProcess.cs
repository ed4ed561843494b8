using System.Text;
using CliWrap;

namespace Backy.Tests.Daemon.Support;

/// <summary>The real <c>backy-daemon</c> executable as a child process of the test.</summary>
public sealed class DaemonProcess : IAsyncDisposable
{
    private readonly CommandTask<CommandResult> _task;
    private readonly CancellationTokenSource _kill = new();
    private readonly StringBuilder _stderr = new();

    public int Pid { get; }
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public static string ExecutablePath => Path.Combine(TestContext.CurrentContext.TestDirectory, "backy-daemon");

    /// <summary>The manual's other entry point, <c>backy scheduler</c>: the same host inside the CLI.</summary>
    public static string CliPath => Path.Combine(TestContext.CurrentContext.TestDirectory, "backy");

    private DaemonProcess(string executable, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment)
    {
        _task = CliWrap.Cli.Wrap(executable)
            .WithArguments(arguments)
            .WithEnvironmentVariables(environment)
            .WithValidation(CommandResultValidation.None)
            .WithStandardErrorPipe(PipeTarget.ToDelegate(line => { lock (_stderr) _stderr.AppendLine(line); }))
            .WithStandardOutputPipe(PipeTarget.ToDelegate(line => { lock (_stderr) _stderr.AppendLine(line); }))
            .ExecuteAsync(_kill.Token);
        Pid = _task.ProcessId;
    }

    public static DaemonProcess Start(string config, string log, IReadOnlyDictionary<string, string?> environment) =>
        new(ExecutablePath, ["-c", config, "-l", log], environment);

    /// <summary><c>backy -l LOG scheduler -c CONFIG</c>.</summary>
    public static DaemonProcess StartScheduler(string config, string log, IReadOnlyDictionary<string, string?> environment) =>
        new(CliPath, ["-l", log, "scheduler", "-c", config], environment);

    public void Signal(int signal) => Posix.Signal(Pid, signal);

    public bool HasExited => _task.Task.IsCompleted;

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        var result = await _task.Task.WaitAsync(cancellationToken);
        return result.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_task.Task.IsCompleted)
            await _kill.CancelAsync();
        try { await _task; }
        catch (OperationCanceledException) { }
        _kill.Dispose();
    }
}

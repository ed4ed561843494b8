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

    private DaemonProcess(string config, string log, IReadOnlyDictionary<string, string?> environment)
    {
        _task = CliWrap.Cli.Wrap(ExecutablePath)
            .WithArguments(["-c", config, "-l", log])
            .WithEnvironmentVariables(environment)
            .WithValidation(CommandResultValidation.None)
            .WithStandardErrorPipe(PipeTarget.ToDelegate(line => { lock (_stderr) _stderr.AppendLine(line); }))
            .WithStandardOutputPipe(PipeTarget.ToDelegate(line => { lock (_stderr) _stderr.AppendLine(line); }))
            .ExecuteAsync(_kill.Token);
        Pid = _task.ProcessId;
    }

    public static DaemonProcess Start(string config, string log, IReadOnlyDictionary<string, string?> environment) =>
        new(config, log, environment);

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

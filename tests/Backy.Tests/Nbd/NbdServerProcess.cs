using System.Text;
using Backy.Tests.Storage.Support;
using CliWrap;

namespace Backy.Tests.Nbd;

/// <summary>A real <c>backy-worker nbd-server</c> on a free port (or a Unix socket), stopped with SIGINT.</summary>
public sealed class NbdServerProcess : IAsyncDisposable
{
    private readonly CancellationTokenSource _graceful = new();
    private readonly CancellationTokenSource _forceful = new();
    private readonly CommandTask<CommandResult> _task;
    private readonly StringBuilder _stderr = new();

    private NbdServerProcess(string jobDir, string[] args, TaskCompletionSource<string> listening)
    {
        _task = WorkerProcess.Command(jobDir, ["nbd-server", .. args])
            .WithStandardOutputPipe(PipeTarget.ToDelegate(line =>
            {
                if (line.StartsWith("listening on ", StringComparison.Ordinal)) listening.TrySetResult(line["listening on ".Length..]);
            }))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(_stderr))
            .ExecuteAsync(_forceful.Token, _graceful.Token);
    }

    /// <summary>nbd://127.0.0.1:PORT or nbd+unix:///?socket=PATH</summary>
    public string Address { get; private set; } = "";

    public string StdErr { get { lock (_stderr) return _stderr.ToString(); } }

    public Task<CommandResult> Exited => _task.Task;

    /// <summary>URI of an export (TCP only).</summary>
    public string Uri(string export = "") => Address.StartsWith("nbd+unix", StringComparison.Ordinal)
        ? $"nbd+unix:///{export}?socket={Address[(Address.IndexOf('=') + 1)..]}"
        : $"{Address}/{export}";

    public static async Task<NbdServerProcess> StartAsync(string jobDir, CancellationToken ct, params string[] args)
    {
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = new NbdServerProcess(jobDir, args.Contains("--port") || args.Contains("--socket") ? args : ["--port", "0", .. args], listening);
        var first = await Task.WhenAny(listening.Task, server._task.Task).WaitAsync(ct);
        if (first != listening.Task)
            throw new InvalidOperationException($"nbd-server exited before listening:\n{server.StdErr}");
        server.Address = listening.Task.Result;
        return server;
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    /// <summary>SIGTERM, as systemd stops it; the exit code (-1 when it had to be killed).</summary>
    public async Task<int> StopAsync()
    {
        if (_task.Task.IsCompleted) return (await _task.Task).ExitCode;
        kill(_task.ProcessId, 15);
        try
        {
            var r = await _task.Task.WaitAsync(TimeSpan.FromSeconds(30));
            return r.ExitCode;
        }
        catch (TimeoutException)
        {
            await _forceful.CancelAsync();
            return -1;
        }
    }

    /// <summary>SIGKILL: no cleanup at all.</summary>
    public async Task KillAsync()
    {
        kill(_task.ProcessId, 9);
        try { await _task.Task.WaitAsync(TimeSpan.FromSeconds(30)); } catch (CliWrap.Exceptions.CommandExecutionException) { }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_task.Task.IsCompleted) await StopAsync();
        try { await _task.Task; } catch (OperationCanceledException) { }
        catch (CliWrap.Exceptions.CommandExecutionException) { }
        _graceful.Dispose();
        _forceful.Dispose();
    }
}

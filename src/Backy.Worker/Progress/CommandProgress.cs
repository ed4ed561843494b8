using Backy.Storage.Progress;
using Spectre.Console;

namespace Backy.Worker.Progress;

/// <summary>
/// Where a job command's engine reports its progress (<see cref="Sink"/>), chosen once per command:
/// <list type="bullet">
/// <item>started by the daemon (<see cref="ProgressLine.EnvironmentVariable"/> = <see cref="ProgressLine.LinesValue"/>):
/// <see cref="ProgressLine"/>s on stderr, which the daemon reads;</item>
/// <item>stderr is a terminal: a Spectre.Console progress bar on it;</item>
/// <item>anything else (a log file, a pipe, a test's writer): nothing (<see cref="Sink"/> is null), so that logs
/// and pipes never get escape sequences or progress lines.</item>
/// </list>
/// Dispose (await) when the operation ends: the bar goes away.
/// </summary>
public sealed class CommandProgress : IAsyncDisposable
{
    private readonly TerminalProgressBar? _bar;

    public IProgress<OperationProgress>? Sink { get; }

    private CommandProgress(IProgress<OperationProgress>? sink, TerminalProgressBar? bar)
    {
        Sink = sink;
        _bar = bar;
    }

    internal static CommandProgress Start(JobContext context, string operation)
    {
        var stderr = context.Error;
        if (Environment.GetEnvironmentVariable(ProgressLine.EnvironmentVariable) == ProgressLine.LinesValue)
            return new CommandProgress(new ProgressLineWriter(stderr.Inner, context.Time), null);
        // Only the process's own stderr can be a terminal; an in-process caller's writer never is.
        if (!ReferenceEquals(stderr.Inner, Console.Error) || Console.IsErrorRedirected)
            return new CommandProgress(null, null);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Interactive = InteractionSupport.Yes,
        });
        var bar = new TerminalProgressBar(console, stderr, context.Time, operation);
        return new CommandProgress(bar, bar);
    }

    public async ValueTask DisposeAsync()
    {
        if (_bar is not null) await _bar.DisposeAsync().ConfigureAwait(false);
    }
}

using Backy.Storage.Progress;
using Spectre.Console;

namespace Backy.Worker.Progress;

/// <summary>
/// A progress bar on a terminal's stderr (Spectre.Console): operation, bar, percentage, blocks, rate and time left
/// from <see cref="ProgressMeter"/> (the same estimate the daemon shows). Log lines the command writes to stderr
/// meanwhile go through the same console (<see cref="StderrLines"/>), so they appear above the bar instead of
/// through it. Removed from the screen when the command ends.
/// </summary>
internal sealed class TerminalProgressBar : IProgress<OperationProgress>, IAsyncDisposable
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(200);

    private readonly ProgressMeter _meter;
    private readonly StderrLines _lines;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _display;
    private ProgressEstimate? _latest;

    public TerminalProgressBar(IAnsiConsole console, StderrLines lines, TimeProvider time, string operation)
    {
        _meter = new ProgressMeter(time);
        _lines = lines;
        lines.Redirect(line => console.WriteLine(line, Style.Plain));
        _display = console.Progress()
            .AutoClear(true)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(operation, maxValue: 1);
                while (!_done.Task.IsCompleted)
                {
                    Show(task, Volatile.Read(ref _latest));
                    await Task.WhenAny(_done.Task, Task.Delay(Refresh)).ConfigureAwait(false);
                }
                Show(task, Volatile.Read(ref _latest));
            });
    }

    public void Report(OperationProgress value) => Volatile.Write(ref _latest, _meter.Update(value));

    private static void Show(ProgressTask task, ProgressEstimate? estimate)
    {
        if (estimate is null) return;
        var p = estimate.Progress;
        task.MaxValue = Math.Max(1, p.BlocksTotal);
        task.Value = Math.Min(p.BlocksDone, task.MaxValue);
        task.Description = Markup.Escape(ProgressText.Describe(estimate));
    }

    public async ValueTask DisposeAsync()
    {
        _done.TrySetResult();
        try { await _display.ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or InvalidOperationException) { } // a terminal that went away
        finally { _lines.Redirect(null); }
    }
}

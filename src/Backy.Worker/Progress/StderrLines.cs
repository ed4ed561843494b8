using System.Text;

namespace Backy.Worker.Progress;

/// <summary>
/// The command's stderr as its log sees it: lines go to the real stderr, or, while a
/// <see cref="TerminalProgressBar"/> is drawn, through the bar's console (above the bar, not through it).
/// </summary>
internal sealed class StderrLines(TextWriter inner) : TextWriter
{
    private Action<string>? _redirect;

    public TextWriter Inner => inner;

    public override Encoding Encoding => inner.Encoding;

    public void Redirect(Action<string>? target) => Volatile.Write(ref _redirect, target);

    public override void WriteLine(string? value)
    {
        if (Volatile.Read(ref _redirect) is { } target) target(value ?? "");
        else inner.WriteLine(value);
    }

    public override void Write(char value) => inner.Write(value);

    public override void Write(string? value) => inner.Write(value);

    public override void Flush() => inner.Flush();
}

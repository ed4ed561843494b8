namespace Backy.Daemon.Config;

/// <summary>One mistake in the daemon configuration: where (key path and, when the parser knows it,
/// the line) and why. Rendered as <c>FILE:LINE: KEY.PATH: reason</c> so an editor can jump there.</summary>
public sealed record ConfigError(string KeyPath, int? Line, string Message)
{
    public string Format(string source) =>
        Line is { } line ? $"{source}:{line}: {KeyPath}: {Message}" : $"{source}: {KeyPath}: {Message}";
}

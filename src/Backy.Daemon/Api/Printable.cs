namespace Backy.Daemon.Api;

/// <summary>
/// Text from the network on its way into a status message or a log line: control characters (NUL,
/// newlines) are escaped so they cannot forge log lines, and the length is bounded so a 1 MB name
/// cannot become a 1 MB log line or a response trailer the client refuses to read.
/// </summary>
internal static class Printable
{
    /// <summary>Longer than any real job name, regex or status detail a person reads.</summary>
    public const int MaxLength = 300;

    public static string Of(string? text, int maxLength = MaxLength)
    {
        if (string.IsNullOrEmpty(text))
            return "";
        var escaped = string.Concat(text.Take(maxLength).Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));
        return text.Length <= maxLength ? escaped : $"{escaped}... ({text.Length} characters)";
    }
}

using System.Text.RegularExpressions;

namespace Backy.Storage.IO;

/// <summary>
/// One line for a file-system error that no code path of ours named: the file (which .NET appends to its
/// message as <c>" : 'path'"</c>) and the system's reason, without the exception's type name. The commands'
/// exit-code boundary uses it, so that even an unforeseen failing call (the fault sweep injects them) reads
/// "cannot access '/job/config': Read-only file system" instead of "IOException: Read-only file system : '...'".
/// </summary>
public static partial class IoErrors
{
    public static string Describe(Exception e) => e switch
    {
        IOException io when PathOf(io.Message) is { } path => $"cannot access '{path}': {DurableFile.Reason(io)}",
        IOException io => DurableFile.Reason(io),
        // "Access to the path '/x' is denied." already names the file and the reason.
        UnauthorizedAccessException => e.Message,
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    public static bool IsFileSystemError(Exception e) => e is IOException or UnauthorizedAccessException;

    /// <summary>The system's reason alone ("Input/output error", "permission denied"), for a message that names the file itself.</summary>
    public static string Reason(Exception e) => e switch
    {
        IOException io => DurableFile.Reason(io),
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };

    static string? PathOf(string message) => TrailingPath().Match(message) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex(@" : '(.+)'$")]
    private static partial Regex TrailingPath();
}

using Microsoft.Extensions.Logging;

namespace Backy.Worker.Logging;

/// <summary>Source-generated log messages of the worker commands. Event ids 20xx of the worker's 2xxx (README.md, Log event ids).</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(2001, LogLevel.Debug, "Command {Command} in {Directory}")]
    public static partial void CommandStarted(this ILogger logger, string command, string directory);

    [LoggerMessage(2002, LogLevel.Debug, "Failed: {Message}")]
    public static partial void CommandFailed(this ILogger logger, string message, Exception exception);

    [LoggerMessage(2010, LogLevel.Error, "Copy to {Target} failed: {Message}")]
    public static partial void CopyFailed(this ILogger logger, string target, string message);
}

using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Logging;

/// <summary>
/// The one line format of every Backy log file (daemon and workers alike), so that one grep for a task id
/// finds a run in the daemon's log and in the job's log:
/// <code>2026-12-01T11:00:00.000Z info  [k3v9x0ab] [vm] JobRun: backing up vm with tags daily</code>
/// UTC time with milliseconds, the level padded to five, the task id in brackets (the provider's own or a
/// <c>TaskId</c> scope), every other scope value in brackets (the job name; an API client), the category's
/// last part, the message.
/// </summary>
public static class LogLine
{
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string Format(DateTimeOffset time, LogLevel level, string? taskId, IExternalScopeProvider? scopes, string category, string message)
    {
        var line = new StringBuilder(160);
        line.Append(time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture)).Append(' ').Append(LevelName(level));
        if (taskId is not null)
            line.Append(" [").Append(taskId).Append(']');
        scopes?.ForEachScope(static (scope, sb) =>
        {
            if (scope is IEnumerable<KeyValuePair<string, object>> pairs)
            {
                // Task id first within a scope: "[task] [job]" reads the same in both logs.
                foreach (var (k, v) in pairs.OrderBy(p => p.Key == "TaskId" ? 0 : 1))
                    sb.Append(" [").Append(v).Append(']');
            }
            else
            {
                sb.Append(" [").Append(scope).Append(']');
            }
        }, line);
        return line.Append(' ').Append(category).Append(": ").Append(message).ToString();
    }

    public static string ShortCategory(string category) => category[(category.LastIndexOf('.') + 1)..];

    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info ",
        LogLevel.Warning => "warn ",
        LogLevel.Error => "error",
        _ => "crit ",
    };
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Backy.Cli.Client;

/// <summary>The client's log: stderr only (the manual: client has no default log file), with the
/// task id scope so one call can be found in the daemon's log too. Diagnostic lines need -v.</summary>
internal static class ClientLogging
{
    public static ILoggerFactory Create(bool verbose) => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Warning)
        .AddSimpleConsole(o =>
        {
            o.IncludeScopes = true;
            o.SingleLine = true;
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        })
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
}

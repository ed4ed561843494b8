using System.Text;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Logging;

/// <summary>
/// Appends log lines to one file (<c>-l</c>): time, level, the Job/TaskId scope, message,
/// exception. Line-buffered and flushed per line, so a crash loses nothing already logged and
/// logrotate's copytruncate works. Every level from Debug up: the file is the verbose log.
/// </summary>
public sealed class FileLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly StreamWriter _writer;
    private readonly Lock _gate = new();
    private readonly TimeProvider _clock;
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public string Path { get; }

    private FileLoggerProvider(string path, StreamWriter writer, TimeProvider clock)
    {
        Path = path;
        _writer = writer;
        _clock = clock;
    }

    /// <exception cref="Storage.BackyException">The file cannot be opened for appending.</exception>
    public static FileLoggerProvider Open(string path, TimeProvider? clock = null)
    {
        try
        {
            var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
            if (dir is not null)
                Directory.CreateDirectory(dir);
            var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            return new FileLoggerProvider(path, new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true }, clock ?? TimeProvider.System);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Storage.BackyException($"cannot open log file '{path}' - {e.Message}", e);
        }
    }

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, ShortCategory(categoryName));

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
        lock (_gate)
            _writer.Dispose();
    }

    private static string ShortCategory(string category) => category[(category.LastIndexOf('.') + 1)..];

    private void Write(LogLevel level, string category, string message, Exception? exception)
    {
        var line = new StringBuilder(128);
        line.Append(_clock.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture))
            .Append(' ').Append(LevelName(level)).Append(' ').Append(category);
        _scopes.ForEachScope((scope, sb) =>
        {
            if (scope is IEnumerable<KeyValuePair<string, object>> pairs)
                foreach (var (k, v) in pairs)
                    if (k is "Job" or "TaskId")
                        sb.Append(' ').Append(k.ToLowerInvariant()).Append('=').Append(v);
        }, line);
        line.Append(": ").Append(message);
        if (exception is not null)
            line.AppendLine().Append(exception);
        lock (_gate)
        {
            try { _writer.WriteLine(line.ToString()); }
            catch (ObjectDisposedException) { } // a late line during shutdown
        }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        _ => "crit",
    };

    private sealed class FileLogger(FileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                provider.Write(logLevel, category, formatter(state, exception), exception);
        }
    }
}

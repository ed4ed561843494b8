using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Backy.Storage.IO;
using Microsoft.Extensions.Logging;

namespace Backy.Worker.Logging;

/// <summary>
/// The worker's logger: one line per message to the log file (everything) and to stderr (information and
/// up; debug too with <c>-v</c>). Lines carry the task id and the active scopes so that a daemon's and a
/// worker's log lines for one task can be matched. Deliberately tiny: no logging framework.
/// </summary>
public sealed class FileLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private StreamWriter? _file;
    private readonly string? _logFile;
    private readonly TextWriter _stderr;
    private readonly LogLevel _stderrLevel;
    private readonly string _taskId;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<string, FileLogger> _loggers = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public FileLoggerProvider(string? logFile, TextWriter stderr, bool verbose, string taskId)
    {
        _stderr = stderr;
        _stderrLevel = verbose ? LogLevel.Debug : LogLevel.Information;
        _taskId = taskId;
        _logFile = logFile;
        if (logFile is not null)
        {
            try
            {
                var dir = Path.GetDirectoryName(Path.GetFullPath(logFile));
                if (dir is not null && Directory.Exists(dir))
                    _file = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete), new UTF8Encoding(false)) { AutoFlush = true };
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"warning: cannot open log file '{logFile}': {e.Message}; logging to stderr only");
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, name => new FileLogger(this, ShortName(name)));

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    private static string ShortName(string category) => category[(category.LastIndexOf('.') + 1)..];

    private void Write(LogLevel level, string category, string message, Exception? exception)
    {
        var line = new StringBuilder(160);
        line.Append(DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))
            .Append(' ').Append(LevelName(level)).Append(" [").Append(_taskId).Append(']');
        _scopes.ForEachScope((scope, sb) => sb.Append(" [").Append(scope).Append(']'), line);
        line.Append(' ').Append(category).Append(": ").Append(message);
        var text = line.ToString();
        lock (_gate)
        {
            WriteToFile(text, exception);
            if (level >= _stderrLevel)
            {
                _stderr.WriteLine(text);
                if (exception is not null && _stderrLevel == LogLevel.Debug) _stderr.WriteLine(exception.ToString());
            }
        }
    }

    /// <summary>
    /// A log file that cannot be written (its file system is full) must not turn into the command's failure,
    /// nor hide the real error: say so once on stderr and go on logging to stderr only.
    /// </summary>
    private void WriteToFile(string text, Exception? exception)
    {
        if (_file is null) return;
        try
        {
            _file.WriteLine(text);
            if (exception is not null) _file.WriteLine(exception.ToString());
        }
        catch (IOException e)
        {
            var file = _file;
            _file = null;
            try { file.Dispose(); } catch (IOException) { /* the buffered rest cannot be written either */ }
            _stderr.WriteLine($"warning: cannot write log file '{_logFile}': {DurableFile.Reason(e)}; logging to stderr only");
        }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info ",
        LogLevel.Warning => "warn ",
        LogLevel.Error => "error",
        _ => "crit ",
    };

    public void Dispose()
    {
        try { _file?.Dispose(); } catch (IOException) { /* reported by WriteToFile already */ }
    }

    private sealed class FileLogger(FileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            provider.Write(logLevel, category, formatter(state, exception), exception);
        }
    }
}

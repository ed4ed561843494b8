using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Logging;

/// <summary>
/// The one log file writer of Backy: the daemon's <c>-l</c> file and every worker's job log go through it,
/// so both handle a full or broken log file system the same way and write the same line format
/// (<see cref="LogLine"/>). Optionally it also writes to stderr (the worker and the client: information and
/// up, debug with <c>-v</c>); the daemon leaves stderr to its console logger (journal formatting).
/// <para>
/// A log file that cannot be written never becomes the caller's failure: no call here throws. The first
/// failing line is reported once on stderr, lines are dropped (and counted) while the file cannot be
/// written, and every <see cref="RetryInterval"/> the file is opened again; the first line that gets
/// through is preceded by one saying how many were lost. Each line is one unbuffered write, so a crash
/// loses nothing already logged and a partial write can only hit the line that failed.
/// </para>
/// </summary>
public sealed class FileLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    /// <summary>How often a failed log file is tried again: often enough that logging resumes soon after an
    /// operator frees space, rarely enough that a full disk costs nothing noticeable.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private readonly TextWriter? _stderr;
    private readonly LogLevel _stderrLevel;
    private readonly string? _taskId;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    // Behind _gate.
    private FileStream? _file;
    private long _failedAt;
    private long _lost;
    private bool _disposed;

    /// <summary>The log file, or null for stderr only.</summary>
    public string? Path { get; }

    private FileLoggerProvider(string? path, FileStream? file, TextWriter? stderr, LogLevel stderrLevel, string? taskId, TimeProvider? clock)
    {
        Path = path;
        _file = file;
        _stderr = stderr;
        _stderrLevel = stderrLevel;
        _taskId = taskId;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>The daemon's log: a file that cannot even be opened (a wrong path, no permission) is a
    /// start-up error. Opening needs no free space, so a full file system is not one.</summary>
    /// <param name="stderr">Where the "cannot write the log file" notices go (the journal), or null.</param>
    /// <exception cref="BackyException">The file cannot be opened for appending.</exception>
    public static FileLoggerProvider Open(string path, TextWriter? stderr = null, string? taskId = null, TimeProvider? clock = null)
    {
        try
        {
            var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
            if (dir is not null)
                Directory.CreateDirectory(dir);
            return new FileLoggerProvider(path, OpenFile(path), stderr, LogLevel.None, taskId, clock);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackyException($"cannot open log file '{path}' - {Reason(e)}", e);
        }
    }

    /// <summary>A worker's or client's log: the file is a convenience, stderr is the contract. A file that
    /// cannot be opened (or whose directory does not exist: a job directory that is not there yet) is said
    /// once on stderr and the command goes on.</summary>
    public static FileLoggerProvider OpenOrWarn(string? path, TextWriter stderr, bool verbose, string? taskId, TimeProvider? clock = null)
    {
        var level = verbose ? LogLevel.Debug : LogLevel.Information;
        FileStream? file = null;
        if (path is not null)
        {
            try
            {
                var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
                if (dir is not null && Directory.Exists(dir))
                    file = OpenFile(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                WriteQuietly(stderr, $"warning: cannot open log file '{path}': {Reason(e)}; logging to stderr only");
                return new FileLoggerProvider(null, null, stderr, level, taskId, clock);
            }
        }
        return new FileLoggerProvider(file is null ? null : path, file, stderr, level, taskId, clock);
    }

    public ILogger CreateLogger(string categoryName) =>
        _loggers.GetOrAdd(categoryName, name => new FileLogger(this, LogLine.ShortCategory(name)));

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            CloseQuietly(_file);
            _file = null;
        }
    }

    private static FileStream OpenFile(string path) =>
        // bufferSize 0: every line is one write(2) of its own; nothing is left in a buffer that a later
        // write or Dispose would have to flush into a full file system (Dispose used to throw there).
        new(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);

    private void Write(LogLevel level, string category, string message, Exception? exception)
    {
        var text = LogLine.Format(_clock.GetUtcNow(), level, _taskId, _scopes, category, message);
        lock (_gate)
        {
            if (_disposed)
                return; // a late line during shutdown
            if (Path is not null)
                WriteToFile(exception is null ? text : text + "\n" + exception);
            if (_stderr is not null && level >= _stderrLevel && _stderrLevel != LogLevel.None)
            {
                WriteQuietly(_stderr, text);
                if (exception is not null && _stderrLevel == LogLevel.Debug)
                    WriteQuietly(_stderr, exception.ToString());
            }
        }
    }

    private void WriteToFile(string text)
    {
        if (_file is null && !TryReopen())
        {
            _lost++;
            return;
        }
        try
        {
            if (_lost > 0)
            {
                Append(LogLine.Format(_clock.GetUtcNow(), LogLevel.Warning, _taskId, null, "Log",
                    $"{_lost} log line(s) could not be written to this file (see stderr/the journal for why)"));
                WriteQuietly(_stderr, $"notice: log file '{Path}' is written again ({_lost} line(s) lost)");
                _lost = 0;
            }
            Append(text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or NotSupportedException)
        {
            if (_lost == 0)
                WriteQuietly(_stderr, $"warning: cannot write log file '{Path}': {Reason(e)}; lines are dropped until it can be written again (retried every {RetryInterval.TotalSeconds:0} s)");
            _lost++;
            CloseQuietly(_file);
            _file = null;
            _failedAt = _clock.GetTimestamp();
        }
    }

    private void Append(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text + "\n");
        _file!.Write(bytes);
    }

    /// <summary>Opens the file again once <see cref="RetryInterval"/> has passed since the last failure.
    /// A fresh open also puts the position at the real end of the file (after a partial write, or after
    /// logrotate's copytruncate).</summary>
    private bool TryReopen()
    {
        if (_clock.GetElapsedTime(_failedAt) < RetryInterval)
            return false;
        try
        {
            _file = OpenFile(Path!);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _failedAt = _clock.GetTimestamp();
            return false;
        }
    }

    private static void CloseQuietly(FileStream? file)
    {
        try { file?.Dispose(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* nothing buffered; reported already */ }
    }

    /// <summary>stderr may be a closed pipe (a parent that went away): that must not fail the command either.</summary>
    private static void WriteQuietly(TextWriter? writer, string line)
    {
        if (writer is null)
            return;
        try { writer.WriteLine(line); }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
    }

    private static string Reason(Exception e) => e is IOException io ? IO.DurableFile.Reason(io) : e.Message;

    private sealed class FileLogger(FileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                provider.Write(logLevel, category, formatter(state, exception), exception);
        }
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Backy.Tests.Api;

/// <summary>Records every log line with its scopes, to assert on what operators would read.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose() { }

    private sealed class Logger(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new List<string>();
            owner._scopes.ForEachScope((scope, list) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object>> pairs)
                    list.AddRange(pairs.Select(p => $"{p.Key}={p.Value}"));
                else
                    list.Add(scope?.ToString() ?? "");
            }, scopes);
            owner.Lines.Enqueue($"{logLevel}: {formatter(state, exception)} [{string.Join(' ', scopes)}]");
        }
    }
}

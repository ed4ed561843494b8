using Microsoft.Extensions.Logging;

namespace Backy.Worker.Logging;

/// <summary>An <see cref="ILoggerFactory"/> over one provider: all the worker needs, without the Logging package.</summary>
public sealed class SingleProviderLoggerFactory(ILoggerProvider provider) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => provider.CreateLogger(categoryName);

    public void AddProvider(ILoggerProvider provider) =>
        throw new NotSupportedException("the worker logs to its log file and stderr only");

    public void Dispose() { }
}

using Backy.Storage.Jobs;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Backup;

/// <summary>
/// Makes an <see cref="IBackupSource"/> from a job's <c>source:</c> config, keyed by its <c>type</c>.
/// Implemented in Backy.Sources (<c>SourceFactory</c>: file, ceph-rbd/ceph, flyingcircus); the worker calls it.
/// Validates the settings up front and throws <see cref="ConfigException"/> naming every bad key.
/// </summary>
public interface ISourceFactory
{
    IReadOnlyCollection<string> Types { get; }

    IBackupSource Create(SourceConfig config, SourceContext context);
}

/// <summary>What a source may need from its surroundings.</summary>
/// <param name="JobDirectory">The job directory (its name is the job name).</param>
public sealed record SourceContext(string JobDirectory, ILoggerFactory LoggerFactory, TimeProvider Time);

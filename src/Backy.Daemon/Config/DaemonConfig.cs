using Backy.Storage.Chunks;
using Backy.Storage.Schedules;

namespace Backy.Daemon.Config;

/// <summary>The whole daemon configuration (<c>/etc/backy.conf</c>), parsed and validated once by
/// <see cref="DaemonConfigReader"/>. Immutable: a reload builds a new one and swaps it in whole.</summary>
public sealed record DaemonConfig(
    string SourcePath,
    GlobalConfig Global,
    ApiConfig Api,
    IReadOnlyDictionary<string, PeerConfig> Peers,
    IReadOnlyDictionary<string, Schedule> Schedules,
    IReadOnlyDictionary<string, JobDefinition> Jobs);

/// <summary><c>global:</c> section.</summary>
/// <param name="BaseDir">Absolute directory holding one sub-directory per job.</param>
/// <param name="WorkerLimit">Concurrent workers per speed class (fast/slow); 1 = no parallel backups.</param>
/// <param name="BackupCompletedCallback">Command run after each successful job run, or null.</param>
/// <param name="Compression">Default compression of every job's new chunks, or null: the storage default (lz4).</param>
public sealed record GlobalConfig(string BaseDir, int WorkerLimit, string? BackupCompletedCallback, ChunkCompression? Compression = null)
{
    /// <summary>The original's default: one backup at a time per speed class.</summary>
    public const int DefaultWorkerLimit = 1;
}

/// <summary><c>peers:</c> entry: another backy server this one synchronises revisions with.</summary>
public sealed record PeerConfig(string Name, Uri Url, string Token);

/// <summary><c>jobs:</c> entry. <paramref name="ScheduleName"/> names an entry of <c>schedules:</c>,
/// already resolved into <paramref name="Schedule"/>. <paramref name="Compression"/>: the job's <c>compression</c>,
/// else <c>global.compression</c>, else null (the storage default, lz4); written into the job's config file.</summary>
public sealed record JobDefinition(string Name, string ScheduleName, Schedule Schedule, SourceDefinition Source, ChunkCompression? Compression = null)
{
    /// <summary><c>copies:</c> of the job: the off-site copy targets it is copied to after each run.</summary>
    public CopyList Copies { get; init; } = CopyList.Empty;
}

/// <summary>A job's copy targets, compared by content so that a reload can tell a changed job from an unchanged one.</summary>
public sealed record CopyList(IReadOnlyList<Backy.Storage.Copies.CopyTarget> Targets)
{
    public static readonly CopyList Empty = new([]);

    public bool Equals(CopyList? other) => other is not null && Targets.SequenceEqual(other.Targets);

    public override int GetHashCode() => Targets.Count;
}

/// <summary>What <c>backy client</c> reads of the daemon configuration (<see cref="DaemonConfigReader.LoadForClient"/>).</summary>
/// <param name="Warning">One line about errors elsewhere in the file, or null when the whole file is valid.</param>
public sealed record ClientConfig(ApiConfig Api, IReadOnlyDictionary<string, PeerConfig> Peers, string? Warning);

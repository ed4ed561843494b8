using Backy.Storage.Chunks;

namespace Backy.Storage.Backup;

/// <summary>Knobs of a backup run.</summary>
/// <param name="Workers">Threads that hash, compress and write blocks. Default: one per core; the reader
/// runs beside them and mostly waits on I/O.</param>
/// <param name="Compression">How new chunks are compressed (the job config's <c>compression</c>); reading needs
/// no setting, every chunk file names its encoding.</param>
public sealed record BackupSettings(int Workers, ChunkCompression? Compression = null)
{
    public static BackupSettings Default => new(Environment.ProcessorCount);
}

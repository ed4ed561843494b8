namespace Backy.Storage.Backup;

/// <summary>Knobs of a backup run.</summary>
/// <param name="Workers">Threads that hash, compress and write blocks. Default: one per core; the reader
/// runs beside them and mostly waits on I/O.</param>
public sealed record BackupSettings(int Workers)
{
    public static BackupSettings Default => new(Environment.ProcessorCount);
}

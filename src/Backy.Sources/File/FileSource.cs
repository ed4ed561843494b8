using Backy.Storage;
using Backy.Storage.Backup;
using Backy.Storage.Jobs;

namespace Backy.Sources;

/// <summary>
/// The <c>file</c> source: a regular file or block device read in place. No snapshot (the manual says to
/// freeze the file while the backup runs), so never a diff: the engine's parent-hash comparison finds the
/// changed blocks. <c>cow</c> (default true) is accepted for compatibility: with chunk storage only changed
/// blocks are ever written, whatever its value.
/// </summary>
public sealed class FileSource : IBackupSource
{
    public const string TypeName = "file";

    public static readonly SourceSchema Schema = new(TypeName, SourceSetting.Text("filename", required: true), SourceSetting.Flag("cow"));

    public string FileName { get; }

    public FileSource(string fileName) => FileName = fileName;

    /// <summary><c>cow</c> is in the schema (a config that sets it stays valid) and read by nobody.</summary>
    public static FileSource Create(SourceConfig config, SourceContext context)
    {
        var name = config.Required("filename");
        // A relative filename is relative to the job directory, so a config works wherever the job is run from.
        return new FileSource(Path.GetFullPath(name, context.JobDirectory));
    }

    public Task<ISourceSnapshot> OpenSnapshotAsync(SnapshotRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<ISourceSnapshot>(FileSnapshot.Open(FileName));
}

using Backy.Daemon.Scheduling;
using Backy.Protocol.V1;
using Backy.Storage;
using Backy.Storage.Editing;
using Backy.Storage.Jobs;
using Backy.Storage.Locks;
using Backy.Storage.Revisions;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Api;

/// <summary><c>backy.v1.Backups</c>: dead backups (directories in base-dir without a job), which
/// peers read and manage after a job moved away. Every name goes through
/// <see cref="DeadBackupDirectories.Resolve"/>.</summary>
internal sealed partial class BackupsService(IJobScheduler daemon, TimeProvider time, ILogger<BackupsService> logger)
    : Backups.BackupsBase
{
    public override Task<ListDeadBackupsResponse> ListDeadBackups(ListDeadBackupsRequest request, ServerCallContext context)
    {
        var filter = NameFilter.Parse(request.Filter);
        var response = new ListDeadBackupsResponse();
        response.Names.AddRange(DeadBackupDirectories.List(daemon.Config.Global.BaseDir, JobNames()).Where(filter.IsMatch));
        return Task.FromResult(response);
    }

    public override Task<PurgeDeadBackupResponse> PurgeDeadBackup(PurgeDeadBackupRequest request, ServerCallContext context)
    {
        var path = Resolve(request.Backup);
        IoErrors(() => MarkPurgePending(path, request.Backup), request.Backup);
        LogPurgePending(logger, request.Backup);
        return Task.FromResult(new PurgeDeadBackupResponse());
    }

    /// <summary>Creates the marker without following a link: a <c>.purge_pending</c> placed as a
    /// symbolic link must not make the daemon create or truncate a file elsewhere. CreateNew is
    /// O_EXCL, which refuses an existing link even if it appears after the check.</summary>
    private static void MarkPurgePending(string path, string backup)
    {
        var marker = Path.Join(path, JobLayout.PurgePendingMarker);
        if (new FileInfo(marker).LinkTarget is not null)
            throw Fail(StatusCode.PermissionDenied, $"backup '{backup}': {JobLayout.PurgePendingMarker} is a symbolic link");
        try
        {
            new FileStream(marker, FileMode.CreateNew, FileAccess.Write).Dispose();
        }
        catch (IOException) when (File.Exists(marker) && new FileInfo(marker).LinkTarget is null)
        {
            // Already purge-pending.
        }
    }

    public override Task<TouchDeadBackupResponse> TouchDeadBackup(TouchDeadBackupRequest request, ServerCallContext context)
    {
        var path = Resolve(request.Backup);
        // Housekeeping deletes dead directories by their age: the directory's own mtime.
        IoErrors(() => Directory.SetLastWriteTimeUtc(path, time.GetUtcNow().UtcDateTime), request.Backup);
        return Task.FromResult(new TouchDeadBackupResponse());
    }

    public override Task<ListRevisionsResponse> ListRevisions(ListRevisionsRequest request, ServerCallContext context)
    {
        var directory = new JobDirectory(Resolve(request.Backup));
        var revisions = IoErrors(directory.LoadRevisions, request.Backup)
            .Where(r => r.IsLocal && (request.IncludeIncomplete || r.IsComplete));
        var response = new ListRevisionsResponse();
        response.Revisions.AddRange(revisions.Select(ApiMapper.ToProto));
        return Task.FromResult(response);
    }

    public override Task<SetRevisionTagsResponse> SetRevisionTags(SetRevisionTagsRequest request, ServerCallContext context)
    {
        if (!RevisionId.IsValid(request.Revision))
            throw Fail(StatusCode.InvalidArgument, $"invalid revision id '{Printable.Of(request.Revision, 40)}'");
        var directory = new JobDirectory(Resolve(request.Backup));
        var removed = IoErrors(() => SetTags(directory, request), request.Backup);
        LogTagsSet(logger, request.Backup, request.Revision, string.Join(',', request.NewTags), removed);
        return Task.FromResult(new SetRevisionTagsResponse { Removed = removed });
    }

    private bool SetTags(JobDirectory directory, SetRevisionTagsRequest request)
    {
        // A linked .rev is not a revision of this directory (listing skips it too); following it
        // would read, and with autoremove act on, another directory's revision.
        if (!directory.HasRevisionFile(request.Revision))
            throw Fail(StatusCode.NotFound, $"no revision {request.Revision} in backup '{directory.Name}'");
        var editor = new RevisionEditor(directory, time, logger);
        try
        {
            // force: the caller's schedule chose these tags; this server has no schedule for the directory.
            return editor.EditTags(TagAction.Set, request.Revision, request.NewTags.ToHashSet(StringComparer.Ordinal),
                expect: request.OldTags.ToHashSet(StringComparer.Ordinal), autoremove: request.Autoremove, force: true).Removed;
        }
        catch (TagExpectationException e)
        {
            throw Fail(StatusCode.FailedPrecondition, e.Message);
        }
        catch (JobLockedException e)
        {
            // A backup or revision change holds the job right now: the caller retries later.
            throw Fail(StatusCode.Unavailable, e.Message);
        }
    }

    private string Resolve(string name) => DeadBackupDirectories.Resolve(daemon.Config.Global.BaseDir, name, JobNames());

    private HashSet<string> JobNames() => daemon.Config.Jobs.Keys.ToHashSet(StringComparer.Ordinal);

    /// <summary>Disk trouble in a dead backup is that backup's problem, reported with its name,
    /// not an opaque internal error.</summary>
    private static T IoErrors<T>(Func<T> action, string backup)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BackyException)
        {
            throw Fail(StatusCode.Internal, $"backup '{backup}': {e.Message}");
        }
    }

    private static void IoErrors(Action action, string backup) => IoErrors(() => { action(); return 0; }, backup);

    private static RpcException Fail(StatusCode code, string message) => new(new Status(code, message));

    [LoggerMessage(EventId = 5020, Level = LogLevel.Information, Message = "dead backup {Backup} marked purge-pending")]
    private static partial void LogPurgePending(ILogger logger, string backup);

    [LoggerMessage(EventId = 5021, Level = LogLevel.Information, Message = "dead backup {Backup}: revision {Revision} tags set to [{Tags}] (removed: {Removed})")]
    private static partial void LogTagsSet(ILogger logger, string backup, string revision, string tags, bool removed);
}

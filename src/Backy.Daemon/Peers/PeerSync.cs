using Backy.Daemon.Api;
using Backy.Daemon.Config;
using Backy.Protocol;
using Backy.Protocol.V1;
using Backy.Storage;
using Backy.Storage.Jobs;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Peers;

/// <summary>
/// Server migration (DESIGN 8): a job that moved here from a peer keeps seeing the revisions it
/// left there. <see cref="PullAsync"/> (before expire) mirrors each peer's revisions of the job as
/// metadata-only revisions; <see cref="PushAsync"/> (after expire) sends changed tags back with the
/// old tags as precondition. A peer that is down or refuses is logged and tried again next run:
/// nothing here is deleted on account of a failed call.
/// </summary>
public sealed partial class PeerSync(ILogger<PeerSync> logger, PeerSyncOptions? options = null)
{
    private readonly TimeSpan _callTimeout = (options ?? PeerSyncOptions.Default).CallTimeout;

    public async Task PullAsync(string job, string jobDir, IReadOnlyDictionary<string, PeerConfig> peers, string taskId,
        CancellationToken cancellationToken)
    {
        var directory = new JobDirectory(jobDir);
        await ForEachPeerAsync(job, peers, "pull", async (peer, connection) =>
        {
            var remote = await ListAsync(job, connection, cancellationToken).ConfigureAwait(false);
            if (remote is null)
                LogNotThere(logger, job, peer.Name);
            var result = PeerRevisions.Merge(directory, peer.Name, remote ?? []);
            foreach (var id in result.Refused)
                LogRefused(logger, job, peer.Name, Printable.Of(id, 40));
            LogPulled(logger, job, peer.Name, result.Added, result.Updated, result.Dropped);
        }, taskId, cancellationToken).ConfigureAwait(false);
        foreach (var r in Guard(job, "drop", () => PeerRevisions.DropUnknownServers(directory, peers.Keys.ToHashSet(StringComparer.Ordinal))) ?? [])
            LogDroppedUnknown(logger, job, r.Id, r.Server);
    }

    public async Task PushAsync(string job, string jobDir, IReadOnlyDictionary<string, PeerConfig> peers, string taskId,
        CancellationToken cancellationToken)
    {
        var directory = new JobDirectory(jobDir);
        await ForEachPeerAsync(job, peers, "push", async (peer, connection) =>
        {
            var removedThere = 0;
            foreach (var revision in PeerRevisions.Unsynced(directory, peer.Name))
            {
                var request = new SetRevisionTagsRequest { Backup = job, Revision = revision.Id, Autoremove = true };
                request.OldTags.AddRange(revision.OrigTags);
                request.NewTags.AddRange(revision.Tags);
                try
                {
                    var reply = await connection.Backups.SetRevisionTagsAsync(request, connection.Call(cancellationToken)).ConfigureAwait(false);
                    PeerRevisions.Pushed(directory, revision, reply.Removed);
                    removedThere += reply.Removed ? 1 : 0;
                    LogPushed(logger, job, peer.Name, revision.Id, string.Join(',', revision.Tags), reply.Removed);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
                {
                    // The peer's tags moved on; the next pull takes them and expire decides again.
                    LogPreconditionFailed(logger, job, peer.Name, revision.Id, e.Status.Detail);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
                {
                    // Gone there (or the whole directory): the next pull drops it here.
                    LogPushNotFound(logger, job, peer.Name, revision.Id, e.Status.Detail);
                }
            }
            if (removedThere > 0)
            {
                await connection.Backups.PurgeDeadBackupAsync(new PurgeDeadBackupRequest { Backup = job }, connection.Call(cancellationToken))
                    .ConfigureAwait(false);
                LogPurgeRequested(logger, job, peer.Name, removedThere);
            }
        }, taskId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The peer's complete revisions of the job after touching its directory there, or
    /// null when it has none to offer (no such directory, or the job is active there).</summary>
    private static async Task<IReadOnlyList<Storage.Revisions.Revision>?> ListAsync(string job, ApiConnection connection,
        CancellationToken cancellationToken)
    {
        try
        {
            await connection.Backups.TouchDeadBackupAsync(new TouchDeadBackupRequest { Backup = job }, connection.Call(cancellationToken))
                .ConfigureAwait(false);
            var reply = await connection.Backups.ListRevisionsAsync(new ListRevisionsRequest { Backup = job }, connection.Call(cancellationToken))
                .ConfigureAwait(false);
            return reply.Revisions.Select(r => ApiMapper.ToDomain(r, "")).ToList();
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.PermissionDenied)
        {
            return null;
        }
    }

    /// <summary>One peer's trouble is logged and stays that peer's: the others and the job go on.</summary>
    private async Task ForEachPeerAsync(string job, IReadOnlyDictionary<string, PeerConfig> peers, string step,
        Func<PeerConfig, ApiConnection, Task> action, string taskId, CancellationToken cancellationToken)
    {
        foreach (var peer in peers.Values.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using var connection = new ApiConnection(peer.Url, peer.Token, taskId, callTimeout: _callTimeout);
                await action(peer, connection).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested
                                      && e is OperationCanceledException or RpcException { StatusCode: StatusCode.DeadlineExceeded })
            {
                // A peer that accepts connections but never answers: its call's deadline passed (ApiConnection
                // turns that into OperationCanceledException, which used to fail the whole run). This peer's
                // step ends here; the other peers, expire and purge go on.
                LogPeerTimedOut(logger, job, step, peer.Name, peer.Url, _callTimeout.TotalSeconds);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated && !cancellationToken.IsCancellationRequested)
            {
                // A configuration mistake, not an outage: say which setting to fix.
                LogAuthenticationFailed(logger, job, step, peer.Name, peer.Url, e.Status.Detail);
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                LogPeerFailed(logger, job, step, peer.Name, peer.Url, e.StatusCode, e.Status.Detail);
            }
            catch (Exception e) when (e is BackyException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                LogLocalFailed(logger, job, step, peer.Name, e.Message);
            }
        }
    }

    private T? Guard<T>(string job, string step, Func<T> action) where T : class
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is BackyException or IOException or UnauthorizedAccessException)
        {
            LogLocalFailed(logger, job, step, "-", e.Message);
            return null;
        }
    }

    [LoggerMessage(EventId = 4800, Level = LogLevel.Information, Message = "{Job}: peer {Peer}: {Added} revisions added, {Updated} updated, {Dropped} dropped")]
    private static partial void LogPulled(ILogger logger, string job, string peer, int added, int updated, int dropped);

    [LoggerMessage(EventId = 4801, Level = LogLevel.Debug, Message = "{Job}: peer {Peer} has no revisions to offer (no such dead backup there)")]
    private static partial void LogNotThere(ILogger logger, string job, string peer);

    [LoggerMessage(EventId = 4802, Level = LogLevel.Warning, Message = "{Job}: peer {Peer}: revision '{Revision}' refused (not a revision id, or the id of a revision held by another server)")]
    private static partial void LogRefused(ILogger logger, string job, string peer, string revision);

    [LoggerMessage(EventId = 4803, Level = LogLevel.Information, Message = "{Job}: dropped revision {Revision} of server {Server}, which is no longer a configured peer")]
    private static partial void LogDroppedUnknown(ILogger logger, string job, string revision, string server);

    [LoggerMessage(EventId = 4804, Level = LogLevel.Information, Message = "{Job}: peer {Peer}: revision {Revision} tags set to [{Tags}] (removed there: {Removed})")]
    private static partial void LogPushed(ILogger logger, string job, string peer, string revision, string tags, bool removed);

    [LoggerMessage(EventId = 4805, Level = LogLevel.Warning, Message = "{Job}: peer {Peer}: revision {Revision} changed there meanwhile, tags not pushed (re-read at the next run): {Reason}")]
    private static partial void LogPreconditionFailed(ILogger logger, string job, string peer, string revision, string reason);

    [LoggerMessage(EventId = 4806, Level = LogLevel.Warning, Message = "{Job}: peer {Peer}: revision {Revision} not found there (dropped at the next pull): {Reason}")]
    private static partial void LogPushNotFound(ILogger logger, string job, string peer, string revision, string reason);

    [LoggerMessage(EventId = 4807, Level = LogLevel.Information, Message = "{Job}: peer {Peer}: {Removed} revisions removed there, purge requested")]
    private static partial void LogPurgeRequested(ILogger logger, string job, string peer, int removed);

    [LoggerMessage(EventId = 4808, Level = LogLevel.Warning, Message = "{Job}: {Step} with peer {Peer} ({Url}) failed, retried at the next run: {Code} {Reason}")]
    private static partial void LogPeerFailed(ILogger logger, string job, string step, string peer, Uri url, StatusCode code, string reason);

    [LoggerMessage(EventId = 4810, Level = LogLevel.Warning, Message = "{Job}: {Step} with peer {Peer} ({Url}): authentication failed ({Reason}): the token in peers.{Peer}.token here must be one of the peer's api.tokens; retried at the next run")]
    private static partial void LogAuthenticationFailed(ILogger logger, string job, string step, string peer, Uri url, string reason);

    [LoggerMessage(EventId = 4811, Level = LogLevel.Warning, Message = "{Job}: {Step} with peer {Peer} ({Url}): no answer within {Seconds} s, retried at the next run")]
    private static partial void LogPeerTimedOut(ILogger logger, string job, string step, string peer, Uri url, double seconds);

    [LoggerMessage(EventId = 4809, Level = LogLevel.Warning, Message = "{Job}: {Step} with peer {Peer} failed here, retried at the next run: {Reason}")]
    private static partial void LogLocalFailed(ILogger logger, string job, string step, string peer, string reason);
}

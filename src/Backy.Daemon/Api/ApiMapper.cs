using Backy.Daemon.Scheduling;
using Backy.Storage.Progress;
using Backy.Storage.Revisions;
using Google.Protobuf.WellKnownTypes;
using V1 = Backy.Protocol.V1;

namespace Backy.Daemon.Api;

/// <summary>
/// The one place where domain types and protobuf messages meet, both directions (the peer sync
/// reads revisions back with <see cref="ToDomain(V1.Revision)"/>).
/// </summary>
public static class ApiMapper
{
    public static V1.JobStatus ToProto(JobSnapshot job)
    {
        var facts = job.View;
        var status = new V1.JobStatus
        {
            Name = job.Name,
            SlaOk = job.SlaOk,
            SlaOverdue = Duration.FromTimeSpan(job.SlaOverdue < TimeSpan.Zero ? TimeSpan.Zero : job.SlaOverdue),
            Status = job.Status,
            LastTime = ToProto(job.LastTime),
            LastDuration = job.LastDuration is { } d ? Duration.FromTimeSpan(d) : null,
            NextTime = ToProto(job.NextTime),
            QuarantineReports = facts.QuarantineReports,
            UnsyncedRevisions = facts.UnsyncedRevisions,
            LocalRevisions = facts.LocalRevisions,
        };
        status.LastTags.AddRange(job.LastTags);
        status.NextTags.AddRange(job.NextTags);
        status.ManualTags.AddRange(facts.ManualTags);
        if (job.Progress is { } progress) status.Progress = ToProto(progress);
        return status;
    }

    public static V1.JobProgress ToProto(ProgressEstimate estimate)
    {
        var p = estimate.Progress;
        return new V1.JobProgress
        {
            Operation = p.Operation,
            BlocksDone = p.BlocksDone,
            BlocksTotal = p.BlocksTotal,
            BytesRead = p.BytesRead,
            BytesWritten = p.BytesWritten,
            BytesPerSecond = estimate.BytesPerSecond,
            Percent = p.Percent,
            Remaining = estimate.Remaining is { } left ? Duration.FromTimeSpan(left) : null,
        };
    }

    public static V1.JobSummary ToSummary(JobSnapshot job) =>
        new() { Name = job.Name, Status = job.Status, Schedule = job.ScheduleName };

    public static V1.Revision ToProto(Revision revision)
    {
        var proto = new V1.Revision
        {
            Uuid = revision.Id,
            Timestamp = Timestamp.FromDateTimeOffset(revision.Timestamp),
            Parent = revision.Parent,
            Trust = ToProto(revision.Trust),
            Server = revision.Server,
            Stats = new V1.RevisionStats
            {
                BytesWritten = revision.BytesWritten,
                Duration = revision.Duration is { } seconds ? Duration.FromTimeSpan(TimeSpan.FromSeconds(seconds)) : null,
            },
        };
        proto.Tags.AddRange(revision.Tags);
        proto.OrigTags.AddRange(revision.OrigTags);
        return proto;
    }

    /// <summary>A revision as a peer reported it. <paramref name="server"/> is the peer's name
    /// here: where the data is, whatever the peer wrote.</summary>
    public static Revision ToDomain(V1.Revision proto, string server) => new()
    {
        Id = proto.Uuid,
        Timestamp = proto.Timestamp?.ToDateTimeOffset() ?? throw new ArgumentException($"revision {proto.Uuid} has no timestamp"),
        Parent = proto.Parent,
        Trust = ToDomain(proto.Trust),
        Tags = new SortedSet<string>(proto.Tags, StringComparer.Ordinal),
        OrigTags = new SortedSet<string>(proto.OrigTags, StringComparer.Ordinal),
        Server = server,
        BytesWritten = proto.Stats?.BytesWritten ?? 0,
        Duration = proto.Stats?.Duration?.ToTimeSpan().TotalSeconds,
    };

    public static V1.Trust ToProto(Trust trust) => trust switch
    {
        Trust.Trusted => V1.Trust.Trusted,
        Trust.Distrusted => V1.Trust.Distrusted,
        Trust.Verified => V1.Trust.Verified,
        _ => throw new ArgumentOutOfRangeException(nameof(trust), trust, null),
    };

    /// <summary>An unset trust (an older peer) is trusted, as a .rev file without the key is.</summary>
    public static Trust ToDomain(V1.Trust trust) => trust switch
    {
        V1.Trust.Distrusted => Trust.Distrusted,
        V1.Trust.Verified => Trust.Verified,
        _ => Trust.Trusted,
    };

    private static Timestamp? ToProto(DateTimeOffset? time) => time is { } t ? Timestamp.FromDateTimeOffset(t) : null;
}

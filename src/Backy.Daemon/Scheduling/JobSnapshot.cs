using Backy.Daemon.Views;

namespace Backy.Daemon.Scheduling;

/// <summary>The state of one configured job at one moment (immutable; a new one per call).</summary>
/// <param name="Status">One of <see cref="JobStatus"/>'s strings.</param>
/// <param name="SlaOk">False when the newest complete revision is older than 1.5 x the shortest
/// interval and the job is not running right now.</param>
/// <param name="SlaOverdue">Age of the newest complete revision when overdue, else zero.</param>
/// <param name="LastTime">Start of the newest complete revision, or null without one.</param>
/// <param name="LastTags">Its tags, shortest interval first.</param>
/// <param name="NextTime">When the job runs next (a retry time while failed), or null while running.</param>
/// <param name="NextTags">The tags that run gets.</param>
/// <param name="FailureCount">Consecutive failed runs (0 after a success); drives the backoff.</param>
/// <param name="LastError">The last failure's one-line reason, or null.</param>
/// <param name="TaskId">The running (or last) run's task id, as in the logs.</param>
/// <param name="View">The job directory as read for this snapshot (<see cref="JobViewCache"/>): SLA and
/// the Last fields above come from it, so they agree with the manual tags and counts it carries.</param>
/// <param name="ViewError">Why the job directory could not be read (then <paramref name="View"/> is empty), or null.</param>
/// <param name="Progress">How far the running backup or copy worker is (<see cref="Workers.RunProgress"/>); null when
/// the job is not running or its current step reports none.</param>
public sealed record JobSnapshot(
    string Name,
    string ScheduleName,
    string Status,
    bool SlaOk,
    TimeSpan SlaOverdue,
    DateTimeOffset? LastTime,
    IReadOnlyList<string> LastTags,
    TimeSpan? LastDuration,
    DateTimeOffset? NextTime,
    IReadOnlyList<string> NextTags,
    int FailureCount,
    string? LastError,
    string? TaskId,
    JobView View,
    string? ViewError = null,
    Backy.Storage.Progress.ProgressEstimate? Progress = null);

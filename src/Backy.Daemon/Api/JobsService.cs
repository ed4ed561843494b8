using Backy.Daemon.Scheduling;
using Backy.Protocol.V1;
using Backy.Storage;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Api;

/// <summary><c>backy.v1.Jobs</c>: a thin adapter over <see cref="IJobScheduler"/>.</summary>
internal sealed partial class JobsService(IJobScheduler daemon, TimeProvider clock, Views.StoredBytesCache stored, ILogger<JobsService> logger) : Jobs.JobsBase
{
    public override Task<GetStatusResponse> GetStatus(GetStatusRequest request, ServerCallContext context)
    {
        var filter = NameFilter.Parse(request.Filter);
        var response = new GetStatusResponse();
        foreach (var job in Selected(filter))
        {
            // One unreadable job directory must not take the whole status (and monitoring) down: its counts
            // are reported as zero and the reason goes to the log.
            if (job.ViewError is { } error)
                LogUnreadable(logger, job.Name, error);
            var status = ApiMapper.ToProto(job);
            if (stored.Of(Path.Join(daemon.Config.Global.BaseDir, job.Name)) is { } bytes) status.StoredBytes = bytes;
            status.CopiesBehind.AddRange(CopyLag.Behind(daemon.Config.Jobs.GetValueOrDefault(job.Name),
                Path.Join(daemon.Config.Global.BaseDir, job.Name), job.LastTime, clock.GetUtcNow()));
            response.Jobs.Add(status);
        }
        return Task.FromResult(response);
    }

    public override Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        var filter = NameFilter.Parse(request.Filter);
        var response = new ListJobsResponse();
        response.Jobs.AddRange(Selected(filter).Select(ApiMapper.ToSummary));
        return Task.FromResult(response);
    }

    public override Task<RunJobResponse> RunJob(RunJobRequest request, ServerCallContext context)
    {
        if (!daemon.RunNow(request.Job))
            throw new RpcException(new Status(StatusCode.NotFound, $"unknown job '{Printable.Of(request.Job, 100)}'"));
        LogRunRequested(logger, request.Job);
        return Task.FromResult(new RunJobResponse());
    }

    public override async Task<ReloadResponse> Reload(ReloadRequest request, ServerCallContext context)
    {
        try
        {
            var config = await daemon.ReloadAsync(context.CancellationToken);
            return new ReloadResponse { Jobs = config.Jobs.Count };
        }
        catch (ConfigException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
    }

    private IEnumerable<JobSnapshot> Selected(NameFilter filter) =>
        daemon.Jobs().Where(j => filter.IsMatch(j.Name)).OrderBy(j => j.Name, StringComparer.Ordinal);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "status: cannot read the directory of job {Job}: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string job, string reason);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "run of job {Job} requested over the api")]
    private static partial void LogRunRequested(ILogger logger, string job);
}

using Backy.Daemon.Scheduling;
using Backy.Protocol.V1;
using Backy.Storage;
using Backy.Storage.Jobs;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Api;

/// <summary><c>backy.v1.Jobs</c>: a thin adapter over <see cref="IJobScheduler"/>.</summary>
internal sealed partial class JobsService(IJobScheduler daemon, JobFactsCache cache, ILogger<JobsService> logger) : Jobs.JobsBase
{
    public override Task<GetStatusResponse> GetStatus(GetStatusRequest request, ServerCallContext context)
    {
        var filter = NameFilter.Parse(request.Filter);
        var baseDir = daemon.Config.Global.BaseDir;
        var response = new GetStatusResponse();
        foreach (var job in Selected(filter))
        {
            response.Jobs.Add(ApiMapper.ToProto(job, Facts(Path.Join(baseDir, job.Name))));
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

    /// <summary>One unreadable job directory must not take the whole status (and monitoring) down:
    /// its counts are reported as zero and the reason goes to the log.</summary>
    private JobDirectoryFacts Facts(string directory)
    {
        try
        {
            return cache.Get(directory, () => JobDirectoryFacts.Read(new JobDirectory(directory)));
        }
        catch (Exception e) when (e is BackyException or IOException or UnauthorizedAccessException)
        {
            LogUnreadable(logger, directory, e.Message);
            return JobDirectoryFacts.Empty;
        }
    }

    private IEnumerable<JobSnapshot> Selected(NameFilter filter) =>
        daemon.Jobs().Where(j => filter.IsMatch(j.Name)).OrderBy(j => j.Name, StringComparer.Ordinal);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "status: cannot read job directory {Directory}: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string directory, string reason);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "run of job {Job} requested over the api")]
    private static partial void LogRunRequested(ILogger logger, string job);
}

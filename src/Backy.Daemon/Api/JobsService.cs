using Backy.Protocol.V1;
using Backy.Storage;
using Backy.Storage.Jobs;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Api;

/// <summary><c>backy.v1.Jobs</c>: a thin adapter over <see cref="IApiDaemon"/>.</summary>
internal sealed partial class JobsService(IApiDaemon daemon, ILogger<JobsService> logger) : Jobs.JobsBase
{
    public override Task<GetStatusResponse> GetStatus(GetStatusRequest request, ServerCallContext context)
    {
        var filter = NameFilter.Parse(request.Filter);
        var baseDir = daemon.Config.Global.BaseDir;
        var response = new GetStatusResponse();
        foreach (var job in Selected(filter))
        {
            var facts = JobDirectoryFacts.Read(new JobDirectory(Path.Join(baseDir, job.Name)));
            response.Jobs.Add(ApiMapper.ToProto(job, facts));
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
            throw new RpcException(new Status(StatusCode.NotFound, $"unknown job '{request.Job}'"));
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

    [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "run of job {Job} requested over the api")]
    private static partial void LogRunRequested(ILogger logger, string job);
}

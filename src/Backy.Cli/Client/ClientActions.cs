using Backy.Protocol.V1;

namespace Backy.Cli.Client;

/// <summary>The client actions; each returns the exit status. Failures of the call itself are
/// mapped by <see cref="ClientSession"/>.</summary>
internal static class ClientActions
{
    public static async Task<int> CheckAsync(ClientSession s, CancellationToken ct)
    {
        var status = await s.Connection.Jobs.GetStatusAsync(new GetStatusRequest(), s.Connection.Call(ct));
        var report = CheckReport.From(status.Jobs, s.TimeZone);
        foreach (var line in report.Lines)
            s.WriteLine(line);
        return (int)report.State;
    }

    public static async Task<int> JobsAsync(ClientSession s, string? filter, CancellationToken ct)
    {
        var status = await s.Connection.Jobs.GetStatusAsync(new GetStatusRequest { Filter = filter ?? "" }, s.Connection.Call(ct));
        var dead = await s.Connection.Backups.ListDeadBackupsAsync(new ListDeadBackupsRequest { Filter = filter ?? "" }, s.Connection.Call(ct));
        s.Console.Write(JobsTable.Build(status.Jobs, dead.Names, s.TimeZone));
        s.WriteLine(JobsTable.Footer(status.Jobs.Count + dead.Names.Count));
        return 0;
    }

    public static async Task<int> StatusAsync(ClientSession s, CancellationToken ct)
    {
        // GetStatus, not ListJobs: it carries the running jobs' progress.
        var jobs = await s.Connection.Jobs.GetStatusAsync(new GetStatusRequest(), s.Connection.Call(ct));
        var dead = await s.Connection.Backups.ListDeadBackupsAsync(new ListDeadBackupsRequest(), s.Connection.Call(ct));
        s.Console.Write(StatusTable.Build(StatusTable.Count(jobs.Jobs, dead.Names.Count)));
        foreach (var line in StatusTable.Running(jobs.Jobs))
            s.WriteLine(line);
        return 0;
    }

    public static async Task<int> RunAsync(ClientSession s, string job, CancellationToken ct)
    {
        await s.Connection.Jobs.RunJobAsync(new RunJobRequest { Job = job }, s.Connection.Call(ct));
        s.WriteLine($"triggered a run of job '{job}'");
        return 0;
    }

    public static async Task<int> RunAllAsync(ClientSession s, CancellationToken ct)
    {
        var jobs = await s.Connection.Jobs.ListJobsAsync(new ListJobsRequest(), s.Connection.Call(ct));
        foreach (var job in jobs.Jobs)
            await s.Connection.Jobs.RunJobAsync(new RunJobRequest { Job = job.Name }, s.Connection.Call(ct));
        s.WriteLine(jobs.Jobs.Count == 1 ? "triggered a run of 1 job" : $"triggered a run of {jobs.Jobs.Count} jobs");
        return 0;
    }

    public static async Task<int> ReloadAsync(ClientSession s, CancellationToken ct)
    {
        var reply = await s.Connection.Jobs.ReloadAsync(new ReloadRequest(), s.Connection.Call(ct));
        s.WriteLine($"reloaded the configuration: {reply.Jobs} job{(reply.Jobs == 1 ? "" : "s")} configured");
        return 0;
    }
}

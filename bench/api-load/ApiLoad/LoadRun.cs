using System.Diagnostics;
using Backy.Protocol.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Backy.Bench.ApiLoad;

/// <summary>What to run: <see cref="Clients"/> concurrent clients, each with its own HTTP/2
/// connection (like separate monitoring processes), calling back to back for <see cref="Duration"/>.
/// <see cref="DeadBackup"/>, when set, adds ListRevisions of that dead backup to the mix.</summary>
public sealed record LoadOptions(Uri Url, string Token, int Clients, TimeSpan Duration, string? DeadBackup = null)
{
    /// <summary>A call slower than this counts as failed: a stuck server must show up as failures.</summary>
    public TimeSpan CallDeadline { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Runs the load. Half of all calls are GetStatus (what monitoring polls), the rest ListJobs,
/// ListDeadBackups and (with a dead backup) ListRevisions, in a fixed rotation that each client
/// starts at a different place.
/// </summary>
public static class LoadRun
{
    public static async Task<LoadReport> RunAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        var rotation = Rotation(options);
        var report = new LoadReport(rotation.Select(r => r.Name).Distinct());
        var end = Stopwatch.GetTimestamp() + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
        var clients = Enumerable.Range(0, options.Clients).Select(i => Task.Run(async () =>
        {
            using var channel = GrpcChannel.ForAddress(options.Url);
            var api = new Api(new Jobs.JobsClient(channel), new Backups.BackupsClient(channel));
            for (var n = i; Stopwatch.GetTimestamp() < end; n++)
            {
                var (name, call) = rotation[n % rotation.Length];
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await call(api, Options(options, cancellationToken), report);
                    report.Succeeded(name, Stopwatch.GetElapsedTime(start));
                }
                catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
                {
                    report.Failed(name, Stopwatch.GetElapsedTime(start), e.Status);
                }
            }
        }, cancellationToken)).ToList();
        await Task.WhenAll(clients);
        return report;
    }

    /// <summary>Polls GetStatus until the API answers (the daemon binds it during start-up);
    /// returns the number of jobs it reports.</summary>
    public static async Task<int> WaitUntilServingAsync(Uri url, string token, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress(url);
        var jobs = new Jobs.JobsClient(channel);
        var give = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            try
            {
                return (await jobs.GetStatusAsync(new GetStatusRequest(), Headers(token), cancellationToken: cancellationToken)).Jobs.Count;
            }
            catch (RpcException) when (Stopwatch.GetTimestamp() < give)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    /// <summary>Runs every job now (what <c>backy client runall</c> does), so backups queue for the
    /// worker slots and run while the load is measured. Returns the number of jobs started.</summary>
    public static async Task<int> RunAllAsync(Uri url, string token, CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress(url);
        var jobs = new Jobs.JobsClient(channel);
        var list = await jobs.ListJobsAsync(new ListJobsRequest(), Headers(token), cancellationToken: cancellationToken);
        foreach (var job in list.Jobs)
            await jobs.RunJobAsync(new RunJobRequest { Job = job.Name }, Headers(token), cancellationToken: cancellationToken);
        return list.Jobs.Count;
    }

    private sealed record Api(Jobs.JobsClient Jobs, Backups.BackupsClient Backups);

    private delegate Task Call(Api api, CallOptions options, LoadReport report);

    private static (string Name, Call Call)[] Rotation(LoadOptions options)
    {
        (string, Call) status = ("GetStatus", async (api, o, report) => report.SawStatus((await api.Jobs.GetStatusAsync(new GetStatusRequest(), o)).Jobs));
        (string, Call) jobs = ("ListJobs", async (api, o, _) => await api.Jobs.ListJobsAsync(new ListJobsRequest(), o));
        (string, Call) dead = ("ListDeadBackups", async (api, o, _) => await api.Backups.ListDeadBackupsAsync(new ListDeadBackupsRequest(), o));
        (string, Call) revisions = ("ListRevisions", async (api, o, _) =>
            await api.Backups.ListRevisionsAsync(new ListRevisionsRequest { Backup = options.DeadBackup }, o));
        return options.DeadBackup is null ? [status, jobs, status, dead] : [status, jobs, status, dead, status, revisions];
    }

    private static CallOptions Options(LoadOptions options, CancellationToken cancellationToken) =>
        new(Headers(options.Token), DateTime.UtcNow + options.CallDeadline, cancellationToken);

    private static Metadata Headers(string token) => new() { { "authorization", $"Bearer {token}" }, { "taskid", "api-load" } };
}

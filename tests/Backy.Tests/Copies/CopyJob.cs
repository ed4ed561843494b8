using System.Text;
using Backy.Copies.S3;
using Backy.Tests.Storage.Support;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Copies;

/// <summary>A <see cref="TestJob"/> whose config has a copy target <c>offsite</c> in its own bucket of the test RGW.</summary>
public sealed class CopyJob : IDisposable
{
    public TestJob Local { get; } = new();
    public string Bucket { get; }
    public string Prefix { get; } = "site-a/";
    public string Url => $"s3://{Bucket}/{Prefix}job";
    public S3ObjectStore Store { get; }

    private CopyJob(string bucket, string extra)
    {
        Bucket = bucket;
        Store = RgwFixture.Store(bucket);
        File.AppendAllText(Path.Combine(Local.JobPath, "config"),
            $"copies:\n  offsite:\n    type: s3\n    endpoint: {RgwFixture.Endpoint}\n    bucket: {bucket}\n    prefix: {Prefix}\n" +
            $"    region: default\n    access-key: {RgwFixture.AccessKey}\n    secret-key: {RgwFixture.SecretKey}\n{extra}");
    }

    public static async Task<CopyJob> CreateAsync(CancellationToken ct, string extraTargetYaml = "", bool objectLock = false) =>
        new(await RgwFixture.NewBucketAsync(ct, objectLock), extraTargetYaml);

    public string JobPath => Local.JobPath;

    public Task<WorkerProcess.Result> Worker(CancellationToken ct, params string[] args) => WorkerProcess.RunAsync(JobPath, ct, args);

    /// <summary>Runs backy-worker stand-alone against the copy (no -b), with the AWS_* environment.</summary>
    public static async Task<WorkerProcess.Result> FromAsync(CancellationToken ct, IReadOnlyDictionary<string, string?>? extraEnv, params string[] args)
    {
        var env = RgwFixture.AwsEnvironment();
        foreach (var (k, v) in extraEnv ?? new Dictionary<string, string?>()) env[k] = v;
        var r = await CliWrap.Cli.Wrap(WorkerProcess.Path).WithArguments(args).WithEnvironmentVariables(env)
            .WithWorkingDirectory(Path.GetTempPath())
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(Encoding.UTF8, ct);
        return new WorkerProcess.Result(r.ExitCode, r.StandardOutput, r.StandardError);
    }

    public async Task<List<string>> KeysAsync(CancellationToken ct, string under = "")
    {
        var keys = new List<string>();
        await foreach (var o in Store.ListAsync(Prefix + "job/" + under, recursive: true, ct)) keys.Add(o.Key[(Prefix.Length + 4)..]);
        return keys;
    }

    public void Dispose()
    {
        Store.Dispose();
        Local.Dispose();
    }
}

using System.Text;
using Backy.Sources.Ceph;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Ceph.Cluster;

/// <summary>
/// A job directory whose config backs up one RBD image, driven through the real <c>backy-worker</c> process
/// with the test cluster's <c>CEPH_ARGS</c> in its environment (exactly how the daemon would run it).
/// </summary>
internal sealed class CephJob : IDisposable
{
    public CephJob(RbdImageSpec image, string type = "ceph-rbd", string extra = "", CephClientOptions? options = null)
    {
        Image = image;
        Options = options ?? CephClusterFixture.Options;
        Root = Path.Combine(Path.GetTempPath(), "backy-cephjob-" + Guid.NewGuid().ToString("N")[..10]);
        JobPath = Path.Combine(Root, image.Image);
        Directory.CreateDirectory(JobPath);
        File.WriteAllText(Path.Combine(JobPath, "config"),
            $"source:\n  type: {type}\n  pool: {image.Pool}\n  image: {image.Image}\n{extra}schedule:\n  daily: {{interval: 1d, keep: 7}}\n");
        Job = new JobDirectory(JobPath);
    }

    public RbdImageSpec Image { get; }
    public CephClientOptions Options { get; }
    public string Root { get; }
    public string JobPath { get; }
    public JobDirectory Job { get; }

    public static string WorkerPath => Path.Combine(AppContext.BaseDirectory, "backy-worker");

    public string Log => File.Exists(Job.DefaultLogPath) ? File.ReadAllText(Job.DefaultLogPath) : "";

    public IReadOnlyList<Revision> Revisions => Job.CompleteRevisions();

    public HashSet<string> ChunkFiles() => Job.Chunks.EnumerateChunks().Select(c => c.Path).ToHashSet();

    /// <summary>Runs <c>backup -f manual:test</c>; returns the exit code and stderr.</summary>
    public async Task<(int ExitCode, string StdErr)> TryBackupAsync(CancellationToken ct)
    {
        var r = await Worker("backup", "daily").ExecuteBufferedAsync(Encoding.UTF8, ct);
        return (r.ExitCode, r.StandardError);
    }

    /// <summary>Runs a backup that must succeed; returns the new revision.</summary>
    public async Task<Revision> BackupAsync(CancellationToken ct)
    {
        var before = Revisions.Select(r => r.Id).ToHashSet();
        var (exit, stderr) = await TryBackupAsync(ct);
        Assert.That(exit, Is.Zero, $"backup failed: {stderr}\n{Log}");
        return Revisions.Single(r => !before.Contains(r.Id));
    }

    public async Task<byte[]> RestoreAsync(Revision revision, CancellationToken ct)
    {
        using var stdout = new MemoryStream();
        var stderr = new StringBuilder();
        var r = await Worker("restore", "-r", revision.Id, "-")
            .WithStandardOutputPipe(PipeTarget.ToStream(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync(ct);
        Assert.That(r.ExitCode, Is.Zero, $"restore failed: {stderr}");
        return stdout.ToArray();
    }

    /// <summary>Runs <c>restore [ARGS] TARGET</c>; returns exit code, stdout and stderr.</summary>
    public async Task<(int ExitCode, string StdOut, string StdErr)> RestoreToAsync(Revision revision, string target, CancellationToken ct, params string[] extra)
    {
        var r = await Worker(["restore", "-r", revision.Id, .. extra, target]).ExecuteBufferedAsync(Encoding.UTF8, ct);
        return (r.ExitCode, r.StandardOutput, r.StandardError);
    }

    private Command Worker(params string[] args) =>
        CliWrap.Cli.Wrap(WorkerPath)
            .WithArguments(["-b", JobPath, .. args])
            .WithEnvironmentVariables(e =>
            {
                e.Set("CEPH_ARGS", Options.CephArgs);
                e.Set(CephClientOptions.RbdVariable, Options.RbdExecutable);
            })
            .WithValidation(CommandResultValidation.None);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

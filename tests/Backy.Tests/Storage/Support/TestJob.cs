using Backy.Storage.Chunks;
using Backy.Storage.Jobs;

namespace Backy.Tests.Storage.Support;

/// <summary>A temp directory with a job directory (<c>job/</c> with a file-source config) and its image (<c>image</c>).</summary>
public sealed class TestJob : IDisposable
{
    public string Root { get; }
    public string JobPath => Path.Combine(Root, "job");
    public string ImagePath => Path.Combine(Root, "image");
    public JobDirectory Job { get; }

    public TestJob(string? schedule = "daily: {interval: 1d, keep: 7}")
    {
        Root = Path.Combine(Path.GetTempPath(), "backy-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(JobPath);
        File.WriteAllText(Path.Combine(JobPath, "config"),
            $"source:\n  type: file\n  filename: {ImagePath}\n" + (schedule is null ? "" : $"schedule:\n  {schedule}\n"));
        Job = new JobDirectory(JobPath);
    }

    public string PathIn(string name) => Path.Combine(Root, name);

    /// <summary>Chunk files on disk with their last write times: what "writes no chunk" is measured by.</summary>
    public Dictionary<string, DateTime> ChunkFiles() =>
        Job.Chunks.EnumerateChunks().ToDictionary(c => c.Path, c => File.GetLastWriteTimeUtc(c.Path));

    public static byte[] Sha(string path) => System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path));

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

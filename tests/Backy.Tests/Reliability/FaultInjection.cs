using System.Text;
using Backy.Tests.Storage.Support;
using CliWrap;

namespace Backy.Tests.Reliability;

/// <summary>
/// One failing system call injected into a real <c>backy-worker</c> by <c>strace -f -e inject=...</c>: the
/// <see cref="Nth"/> call of <see cref="Syscall"/> fails with <see cref="Errno"/>. strace counts invocations per
/// syscall and per thread, so with several threads the Nth call of each thread fails. With <see cref="JobFilesOnly"/>
/// only calls naming a file that existed in the job directory (or the restore target) before the run are counted
/// and failed (<c>strace -P</c>), which aims the fault at our own files rather than the runtime's.
/// </summary>
public sealed record FaultInjection(string Syscall, string Errno, int Nth, bool JobFilesOnly)
{
    /// <summary>The system calls the sweep fails, each with the errors a disk or kernel can return for it.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Errors = new Dictionary<string, string[]>
    {
        ["openat"] = ["EIO", "EACCES", "EROFS", "ENOSPC"],
        ["read"] = ["EIO"],
        ["pread64"] = ["EIO"],
        ["write"] = ["EIO", "ENOSPC"],
        ["pwrite64"] = ["EIO", "ENOSPC"],
        ["fsync"] = ["EIO", "ENOSPC"],
        ["fdatasync"] = ["EIO", "ENOSPC"],
        ["syncfs"] = ["EIO"],
        ["rename"] = ["EIO", "ENOSPC", "EROFS"],
        ["renameat2"] = ["EIO", "ENOSPC"],
        ["unlink"] = ["EIO", "EROFS", "EACCES"],
        ["unlinkat"] = ["EIO", "EROFS"],
        ["ftruncate"] = ["EIO", "ENOSPC"],
        ["fallocate"] = ["ENOSPC", "EIO"],
        ["flock"] = ["EIO", "ENOLCK"],
    };

    public static readonly int[] Calls = [1, 2, 3, 5, 8, 13];

    public override string ToString() => $"{Syscall}:{Errno}:when={Nth}{(JobFilesOnly ? " (job files)" : "")}";

    public sealed record Outcome(int ExitCode, byte[] StdOut, string StdErr, int Injected);

    /// <summary>Runs <c>backy-worker -b JOB ARGS</c> under strace with this fault; stdout is kept as bytes.</summary>
    public async Task<Outcome> RunAsync(string jobDir, IEnumerable<string> watchedPaths, string[] args, CancellationToken ct)
    {
        var trace = Path.Combine(Path.GetTempPath(), "backy-fault-" + Guid.NewGuid().ToString("N")[..12] + ".trace");
        var strace = new List<string> { "-f", "-qq", "-o", trace, "-e", "trace=" + Syscall,
            "-e", $"inject={Syscall}:error={Errno}:when={Nth}" };
        if (JobFilesOnly)
            foreach (var p in watchedPaths) strace.AddRange(["-P", p]);
        strace.AddRange([WorkerProcess.Path, "-b", jobDir, .. args]);

        var stdout = new MemoryStream();
        var stderr = new StringBuilder();
        try
        {
            var r = await CliWrap.Cli.Wrap("strace").WithArguments(strace)
                .WithValidation(CommandResultValidation.None)
                .WithStandardOutputPipe(PipeTarget.ToStream(stdout))
                .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
                .ExecuteAsync(ct);
            var injected = File.Exists(trace) ? File.ReadLines(trace).Count(l => l.Contains("(INJECTED)")) : 0;
            return new Outcome(r.ExitCode, stdout.ToArray(), stderr.ToString(), injected);
        }
        finally
        {
            File.Delete(trace);
        }
    }

    /// <summary>
    /// How often a command calls each swept system call (all threads, <c>strace -f -c</c>), so that the sweep
    /// only draws faults that can fire: a syscall the command never makes, or an Nth call beyond its count, tests nothing.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, int>> CensusAsync(string jobDir, string[] args, CancellationToken ct)
    {
        var summary = Path.Combine(Path.GetTempPath(), "backy-census-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            await CliWrap.Cli.Wrap("strace")
                .WithArguments(["-f", "-c", "-o", summary, "-e", "trace=" + string.Join(',', Errors.Keys), WorkerProcess.Path, "-b", jobDir, .. args])
                .WithValidation(CommandResultValidation.None)
                .WithStandardOutputPipe(PipeTarget.Null).WithStandardErrorPipe(PipeTarget.Null)
                .ExecuteAsync(ct);
            var counts = new Dictionary<string, int>();
            foreach (var line in File.ReadLines(summary))
            {
                // "% time seconds usecs/call calls [errors] syscall"
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length >= 5 && Errors.ContainsKey(f[^1]) && int.TryParse(f[3], out var calls)) counts[f[^1]] = calls;
            }
            return counts;
        }
        finally
        {
            File.Delete(summary);
        }
    }

    /// <summary>The paths a job-files-only fault watches: the job directory, everything in it, and extra paths.</summary>
    public static IReadOnlyList<string> WatchedPaths(string jobDir, params string[] extra) =>
        [jobDir, .. Directory.EnumerateFileSystemEntries(jobDir, "*", SearchOption.AllDirectories), .. extra];
}

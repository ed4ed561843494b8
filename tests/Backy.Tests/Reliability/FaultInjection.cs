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
/// With <see cref="Persistent"/> every call from the Nth on fails (<c>when=N+</c>): a network that stays down.
public sealed record FaultInjection(string Syscall, string Errno, int Nth, bool JobFilesOnly, bool Persistent = false)
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
        // The network, for copy: a peer that resets or a link that times out.
        ["connect"] = ["ECONNREFUSED", "ETIMEDOUT"],
        ["sendto"] = ["ECONNRESET", "ETIMEDOUT"],
        ["recvfrom"] = ["ECONNRESET", "ETIMEDOUT"],
        ["sendmsg"] = ["ECONNRESET", "ETIMEDOUT"],
        ["recvmsg"] = ["ECONNRESET", "ETIMEDOUT"],
    };

    static readonly string[] Network = ["connect", "sendto", "recvfrom", "sendmsg", "recvmsg"];

    /// <summary>Whether <c>strace -P</c> can aim the call at the job's files (a socket call names no file).</summary>
    public static bool NamesAFile(string syscall) => !Network.Contains(syscall);

    /// <summary>
    /// The system calls swept for a command: network calls only for copy (its failures are the peer's);
    /// for nbd-server the reads and opens of the job's files (and its pin's lock), not the client's socket.
    /// </summary>
    public static IReadOnlyCollection<string> SweptFor(string command) => command switch
    {
        "copy" => Errors.Keys.ToList(),
        "nbd-server" => ["openat", "read", "pread64", "flock"],
        _ => Errors.Keys.Except(Network).ToList(),
    };

    public static readonly int[] Calls = [1, 2, 3, 5, 8, 13];

    public override string ToString() => $"{Syscall}:{Errno}:when={When}{(JobFilesOnly ? " (job files)" : "")}";

    string When => Persistent ? $"{Nth}+" : $"{Nth}";

    /// <param name="FirstInjected">strace's line of the first failed call (the thread, the call and its arguments).</param>
    public sealed record Outcome(int ExitCode, byte[] StdOut, string StdErr, int Injected, string? FirstInjected = null);

    /// <summary>Runs <c>backy-worker -b JOB ARGS</c> under strace with this fault; stdout is kept as bytes.</summary>
    public async Task<Outcome> RunAsync(string jobDir, IEnumerable<string> watchedPaths, string[] args, CancellationToken ct)
    {
        await using var running = Start(jobDir, watchedPaths, args, onLine: null, ct);
        return await running.Finished;
    }

    /// <summary>
    /// Starts <c>backy-worker -b JOB ARGS</c> under strace with this fault and returns at once (for a server such
    /// as <c>nbd-server</c>); <paramref name="onLine"/> sees each stdout line when given (stdout is then not kept).
    /// </summary>
    public Running Start(string jobDir, IEnumerable<string> watchedPaths, string[] args, Action<string>? onLine, CancellationToken ct)
    {
        var strace = new List<string> { "-f", "-qq", "-e", "trace=" + Syscall, "-e", $"inject={Syscall}:error={Errno}:when={When}" };
        if (JobFilesOnly)
            foreach (var p in watchedPaths) strace.AddRange(["-P", p]);
        var trace = Path.Combine(Path.GetTempPath(), "backy-fault-" + Guid.NewGuid().ToString("N")[..12] + ".trace");
        return new Running(["-o", trace, .. strace], trace, jobDir, args, onLine, ct);
    }

    /// <summary>One worker under strace: its outcome once it exits, and SIGTERM for the worker itself.</summary>
    public sealed class Running : IAsyncDisposable
    {
        readonly string _trace;
        readonly CancellationTokenSource _kill = new();
        readonly CommandTask<CommandResult> _task;

        /// <param name="trace">strace's <c>-o</c> file, counted for injections and deleted at the end.</param>
        internal Running(List<string> strace, string trace, string jobDir, string[] args, Action<string>? onLine, CancellationToken ct)
        {
            _trace = trace;
            var stdout = new MemoryStream();
            var stderr = new StringBuilder();
            var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _kill.Token);
            _task = CliWrap.Cli.Wrap("strace").WithArguments([.. strace, WorkerProcess.Path, "-b", jobDir, .. args])
                .WithValidation(CommandResultValidation.None)
                .WithStandardOutputPipe(onLine is null ? PipeTarget.ToStream(stdout) : PipeTarget.ToDelegate(onLine))
                .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
                .ExecuteAsync(linked.Token);
            Finished = FinishAsync(stdout, stderr, linked);
        }

        public Task<Outcome> Finished { get; }

        async Task<Outcome> FinishAsync(MemoryStream stdout, StringBuilder stderr, CancellationTokenSource linked)
        {
            try
            {
                var r = await _task;
                return Read(r.ExitCode);
            }
            catch (OperationCanceledException)
            {
                return Read(-9);
            }
            finally
            {
                linked.Dispose();
                File.Delete(_trace);
            }

            Outcome Read(int exitCode)
            {
                var injected = File.Exists(_trace) ? File.ReadLines(_trace).Where(l => l.Contains("(INJECTED)")).ToList() : [];
                var first = injected.FirstOrDefault() is { } l ? (l.Length > 240 ? l[..240] + "..." : l) : null;
                return new Outcome(exitCode, stdout.ToArray(), stderr.ToString(), injected.Count, first);
            }
        }

        /// <summary>
        /// SIGTERM to the worker (strace's child; strace with <c>-o</c> blocks fatal signals itself), as systemd
        /// stops a server; SIGKILL to both after <paramref name="grace"/>. The outcome's exit code is -9 then.
        /// </summary>
        public async Task<Outcome> StopAsync(TimeSpan grace)
        {
            if (!Finished.IsCompleted && WorkerPid(_task.ProcessId) is { } pid) kill(pid, 15);
            try { return await Finished.WaitAsync(grace); }
            catch (TimeoutException)
            {
                if (WorkerPid(_task.ProcessId) is { } worker) kill(worker, 9);
                await _kill.CancelAsync();
                return await Finished;
            }
        }

        static int? WorkerPid(int stracePid)
        {
            try
            {
                var children = File.ReadAllText($"/proc/{stracePid}/task/{stracePid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return children.Length > 0 && int.TryParse(children[0], out var pid) ? pid : null;
            }
            catch (IOException) { return null; }
        }

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        static extern int kill(int pid, int signal);

        public async ValueTask DisposeAsync()
        {
            if (!Finished.IsCompleted) await StopAsync(TimeSpan.FromSeconds(30));
            _kill.Dispose();
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
            return ReadSummary(summary);
        }
        finally
        {
            File.Delete(summary);
        }
    }

    /// <summary>
    /// The census of a server: starts <c>backy-worker -b JOB ARGS</c> under <c>strace -f -c</c>, runs
    /// <paramref name="use"/> with each stdout line seen so far, then stops the worker with SIGTERM.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, int>> ServerCensusAsync(string jobDir, string[] args,
        Func<Task<string>, Task> use, CancellationToken ct)
    {
        var summary = Path.Combine(Path.GetTempPath(), "backy-census-" + Guid.NewGuid().ToString("N")[..12]);
        var firstLine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await using (var running = new Running(["-f", "-c", "-o", summary, "-e", "trace=" + string.Join(',', Errors.Keys)],
                             summary + ".none", jobDir, args, line => firstLine.TrySetResult(line), ct))
            {
                await use(firstLine.Task);
                await running.StopAsync(TimeSpan.FromSeconds(60));
            }
            return ReadSummary(summary);
        }
        finally
        {
            File.Delete(summary);
        }
    }

    static Dictionary<string, int> ReadSummary(string summary)
    {
        var counts = new Dictionary<string, int>();
        foreach (var line in File.ReadLines(summary))
        {
            // "% time seconds usecs/call calls [errors] syscall"
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 5 && Errors.ContainsKey(f[^1]) && int.TryParse(f[3], out var calls)) counts[f[^1]] = calls;
        }
        return counts;
    }

    /// <summary>The paths a job-files-only fault watches: the job directory, everything in it, and extra paths.</summary>
    public static IReadOnlyList<string> WatchedPaths(string jobDir, params string[] extra) =>
        [jobDir, .. Directory.EnumerateFileSystemEntries(jobDir, "*", SearchOption.AllDirectories), .. extra];
}

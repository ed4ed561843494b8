using System.ComponentModel;
using System.Text.Json;
using Backy.Storage;
using CliWrap;
using Microsoft.Extensions.Logging;

namespace Backy.Sources.Ceph;

/// <summary>
/// The one place that runs the <c>rbd</c> program (through CliWrap). Every call names the image as
/// <c>pool/image[@snap]</c>, adds <c>--no-progress</c> where rbd would otherwise draw progress bars on stderr, passes
/// <c>CEPH_ARGS</c>/<c>CEPH_CONF</c> through and turns <c>CEPH_CLUSTER</c> into <c>--cluster</c>. A non-zero exit
/// becomes an <see cref="ExternalCommandException"/> carrying rbd's stderr; every stderr line is logged too.
/// </summary>
public sealed partial class RbdCli
{
    // rbd prints this errno text when the pool, image or snapshot does not exist.
    internal const string NotFound = "(2) No such file or directory";

    // rbd's last line when it cannot reach the monitors (or has no usable config or keyring).
    internal const string NoCluster = "couldn't connect to the cluster";

    /// <summary>The pool, image or snapshot does not exist: rbd's <em>last</em> line says ENOENT. Not any
    /// line: a client that cannot reach the cluster prints "(2) No such file or directory" too, for the
    /// ceph.conf and keyring it did not find, before "couldn't connect to the cluster!".</summary>
    internal static bool IsNotFound(string stderr) =>
        !stderr.Contains(NoCluster, StringComparison.Ordinal)
        && stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() is { } last
        && last.Contains(NotFound, StringComparison.Ordinal);

    private readonly CephClientOptions _options;
    private readonly ILogger _logger;

    public RbdCli(CephClientOptions options, ILogger<RbdCli> logger)
    {
        _options = options;
        _logger = logger;
    }

    public CephClientOptions Options => _options;

    /// <summary>The image's (or snapshot's) size, or null when the pool, image or snapshot does not exist.</summary>
    public async Task<RbdImageInfo?> InfoAsync(RbdImageSpec image, string? snapshot, CancellationToken cancellationToken)
    {
        var spec = snapshot is null ? image.ToString() : image.At(snapshot);
        var (exitCode, stdout, stderr) = await RunBufferedAsync(["info", "--format", "json", spec], cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
        {
            if (IsNotFound(stderr)) return null;
            throw Failure(["info", spec], exitCode, stderr);
        }
        try
        {
            using var json = JsonDocument.Parse(stdout);
            var root = json.RootElement;
            return new RbdImageInfo(root.GetProperty("name").GetString() ?? image.Image, root.GetProperty("size").GetInt64(),
                root.TryGetProperty("order", out var order) ? order.GetInt32() : 22);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new BackyException($"rbd info {spec}: unexpected output ({e.Message})", e);
        }
    }

    public async Task<IReadOnlyList<RbdSnapshot>> ListSnapshotsAsync(RbdImageSpec image, CancellationToken cancellationToken)
    {
        var stdout = await RunCheckedAsync(["snap", "ls", "--format", "json", image.ToString()], cancellationToken).ConfigureAwait(false);
        try
        {
            using var json = JsonDocument.Parse(stdout);
            return json.RootElement.EnumerateArray()
                .Select(s => new RbdSnapshot(s.GetProperty("id").GetInt64(), s.GetProperty("name").GetString() ?? "", s.GetProperty("size").GetInt64()))
                .ToArray();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new BackyException($"rbd snap ls {image}: unexpected output ({e.Message})", e);
        }
    }

    public Task CreateSnapshotAsync(RbdImageSpec image, string snapshot, CancellationToken cancellationToken) =>
        RunCheckedAsync(["snap", "create", "--no-progress", image.At(snapshot)], cancellationToken);

    public Task RemoveSnapshotAsync(RbdImageSpec image, string snapshot, CancellationToken cancellationToken) =>
        RunCheckedAsync(["snap", "rm", "--no-progress", image.At(snapshot)], cancellationToken);

    /// <summary>
    /// <c>rbd export pool/image@snap -</c>: the whole snapshot as a stream read straight from rbd's stdout.
    /// With <paramref name="expectedLength"/>, the read that delivers the last byte also waits for rbd's exit and
    /// throws if rbd failed, so a caller that reads exactly that many bytes still sees rbd's error.
    /// </summary>
    public Stream Export(RbdImageSpec image, string snapshot, long? expectedLength) =>
        StartStream(["export", "--no-progress", image.At(snapshot), "-"], expectedLength);

    /// <summary>
    /// <c>rbd export-diff --from-snap FROM pool/image@snap -</c>: the changes between two snapshots in the
    /// "rbd diff v1" format (parse with <see cref="RbdDiffReader"/>).
    /// </summary>
    public Stream ExportDiff(RbdImageSpec image, string fromSnapshot, string snapshot) =>
        StartStream(["export-diff", "--no-progress", "--from-snap", fromSnapshot, image.At(snapshot), "-"], null);

    private async Task<string> RunCheckedAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var (exitCode, stdout, stderr) = await RunBufferedAsync(arguments, cancellationToken).ConfigureAwait(false);
        if (exitCode != 0) throw Failure(arguments, exitCode, stderr);
        return stdout;
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunBufferedAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var stdout = new System.Text.StringBuilder();
        var stderr = new StderrTail(this);
        var command = Build(arguments)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(stderr.Target);
        var result = await Execute(command, arguments, cancellationToken, CancellationToken.None).ConfigureAwait(false);
        LogExited(_logger, arguments[0], result.ExitCode, result.RunTime.TotalMilliseconds);
        return (result.ExitCode, stdout.ToString(), stderr.Text);
    }

    private Command Build(IReadOnlyList<string> arguments)
    {
        var all = new List<string>();
        if (_options.Cluster is { } cluster) all.AddRange(["--cluster", cluster]);
        all.AddRange(arguments);
        LogRunning(_logger, _options.RbdExecutable, string.Join(' ', all));
        return Cli.Wrap(_options.RbdExecutable)
            .WithArguments(all)
            .WithEnvironmentVariables(env =>
            {
                // Set explicitly rather than inherited so that options built in code (tests) reach rbd as well.
                if (_options.CephArgs is { } args) env.Set("CEPH_ARGS", args);
                if (_options.ConfFile is { } conf) env.Set("CEPH_CONF", conf);
            })
            .WithValidation(CommandResultValidation.None);
    }

    private CommandTask<CommandResult> Execute(Command command, IReadOnlyList<string> arguments, CancellationToken forceful, CancellationToken graceful)
    {
        try
        {
            return command.ExecuteAsync(forceful, graceful);
        }
        catch (Win32Exception e)
        {
            throw new BackyException($"cannot run rbd '{_options.RbdExecutable}' ({arguments[0]}): {e.Message} (set {CephClientOptions.RbdVariable} or install ceph-common)", e);
        }
    }

    private ExternalCommandException Failure(IReadOnlyList<string> arguments, int exitCode, string stderr) =>
        new($"rbd {string.Join(' ', arguments)}", exitCode, stderr);

    [LoggerMessage(EventId = 3100, Level = LogLevel.Debug, Message = "running {Rbd} {Arguments}")]
    private static partial void LogRunning(ILogger logger, string rbd, string arguments);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Debug, Message = "rbd {Subcommand} exited with {ExitCode} after {Milliseconds:F0} ms")]
    private static partial void LogExited(ILogger logger, string subcommand, int exitCode, double milliseconds);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Debug, Message = "rbd {Subcommand} stdout: {StreamType}, pipe size {PipeSize}")]
    private static partial void LogPipe(ILogger logger, string subcommand, string streamType, int pipeSize);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "rbd: {Line}")]
    private static partial void LogStderr(ILogger logger, string line);
}

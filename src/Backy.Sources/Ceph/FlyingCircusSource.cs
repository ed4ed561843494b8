using System.Text.Json;
using System.Text.Json.Nodes;
using Backy.Storage;
using Backy.Storage.Backup;
using Backy.Storage.Jobs;
using Microsoft.Extensions.Logging;

namespace Backy.Sources.Ceph;

/// <summary>
/// The <c>flyingcircus</c> source: ceph-rbd plus <c>vm</c> and <c>consul_acl_token</c>. Instead of taking the
/// snapshot itself it asks the hypervisor's agent, through Consul's KV store (<c>snapshot/&lt;uuid&gt;</c> =
/// <c>{"vm": ..., "snapshot": ...}</c>), to freeze the guest's file systems and take it; it polls
/// librbd (<c>rbd_snap_exists</c>) for the snapshot and, when none appears in time (VM down, agent dead, Consul down), takes a
/// plain snapshot itself. Either way it then deletes every request for this VM (and unreadable requests) so that
/// a late agent does not keep re-creating snapshots.
/// </summary>
public sealed partial class FlyingCircusSource : CephRbdSource
{
    public new const string TypeName = "flyingcircus";

    public const string RequestPrefix = "snapshot/";

    /// <summary>How long the agent gets (the original's 90 s: a guest freeze plus a snapshot fits easily).</summary>
    public static readonly TimeSpan DefaultSnapshotTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Polling for the snapshot every 2 s costs the cluster next to nothing and adds at most 2 s.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(2);

    private readonly Uri _consul;
    private readonly string? _token;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public FlyingCircusSource(RbdImageSpec image, bool fullAlways, string vm, string? consulToken, Uri consul,
        CephClientOptions options, ILoggerFactory loggerFactory, TimeProvider time)
        : base(image, fullAlways, options, loggerFactory)
    {
        Vm = vm;
        _token = consulToken;
        _consul = consul;
        _time = time;
        _logger = loggerFactory.CreateLogger<FlyingCircusSource>();
    }

    public string Vm { get; }

    public TimeSpan SnapshotTimeout { get; init; } = DefaultSnapshotTimeout;

    public TimeSpan PollInterval { get; init; } = DefaultPollInterval;

    public static new readonly SourceSchema Schema = new(TypeName, [.. Settings, SourceSetting.Text("vm", required: true), SourceSetting.Text("consul_acl_token")]);

    public static new FlyingCircusSource Create(SourceConfig config, SourceContext context)
    {
        var token = config.Optional("consul_acl_token") is { Length: > 0 } t ? t : Environment.GetEnvironmentVariable("CONSUL_HTTP_TOKEN");
        var source = new FlyingCircusSource(ImageFrom(config), config.Flag("full-always", false), config.Required("vm"), token,
            ConsulKv.AddressFromEnvironment(Environment.GetEnvironmentVariable), CephClientOptions.FromEnvironment(),
            context.LoggerFactory, context.Time);
        source.StartConnecting();
        return source;
    }

    protected override async Task TakeSnapshotAsync(RbdImage head, string name, CancellationToken cancellationToken)
    {
        // The head is open, so the image exists: the hypervisor is never asked to snapshot an image that is not there.
        using var consul = new ConsulKv(_consul, _token, RequestTimeout);
        try
        {
            if (await RequestAsync(consul, name, cancellationToken).ConfigureAwait(false)
                && await WaitForSnapshotAsync(head, name, cancellationToken).ConfigureAwait(false))
            {
                LogAgentSnapshot(_logger, Image.At(name), Vm);
                return;
            }
            LogFallback(_logger, Image.At(name), Vm);
            try
            {
                await base.TakeSnapshotAsync(head, name, cancellationToken).ConfigureAwait(false);
            }
            catch (BackyException e) when (e.InnerException is LibRbdException { Errno: LibRbdException.EEXIST })
            {
                // The agent was late but not absent: its snapshot is as good as ours (better: frozen).
                LogAgentSnapshot(_logger, Image.At(name), Vm);
            }
        }
        finally
        {
            await RemoveRequestsAsync(consul).ConfigureAwait(false);
        }
    }

    // Consul answers in milliseconds; a hung Consul must not eat the whole snapshot timeout.
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private async Task<bool> RequestAsync(ConsulKv consul, string name, CancellationToken cancellationToken)
    {
        var key = RequestPrefix + Guid.NewGuid().ToString();
        var value = new JsonObject { ["vm"] = Vm, ["snapshot"] = name }.ToJsonString();
        try
        {
            await consul.PutAsync(key, value, cancellationToken).ConfigureAwait(false);
            LogRequested(_logger, key, value);
            return true;
        }
        catch (BackyException e)
        {
            LogConsulFailed(_logger, e.Message);
            return false;
        }
    }

    private async Task<bool> WaitForSnapshotAsync(RbdImage head, string name, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + SnapshotTimeout;
        while (true)
        {
            // rbd_snap_exists refreshes the handle when the agent's snapshot changed the image header.
            if (Ready(() => head.SnapshotExists(name))) return true;
            var left = deadline - _time.GetUtcNow();
            if (left <= TimeSpan.Zero) return false;
            await Task.Delay(left < PollInterval ? left : PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes every request for this VM, and requests nobody can read. Failures are only logged.</summary>
    private async Task RemoveRequestsAsync(ConsulKv consul)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            foreach (var (key, value) in await consul.ListAsync(RequestPrefix, timeout.Token).ConfigureAwait(false))
            {
                if (!IsRequestFor(value, Vm, out var garbage) && !garbage) continue;
                await consul.DeleteAsync(key, timeout.Token).ConfigureAwait(false);
                LogRequestRemoved(_logger, key, garbage ? "unreadable" : Vm);
            }
        }
        catch (Exception e) when (e is BackyException or OperationCanceledException)
        {
            LogConsulFailed(_logger, e.Message);
        }
    }

    internal static bool IsRequestFor(string value, string vm, out bool garbage)
    {
        garbage = false;
        try
        {
            if (JsonNode.Parse(value) is JsonObject o && o["vm"] is JsonValue v && v.TryGetValue<string>(out var name))
                return name == vm;
        }
        catch (JsonException) { }
        garbage = true;
        return false;
    }

    [LoggerMessage(EventId = 3130, Level = LogLevel.Information, Message = "requested snapshot through consul: {Key} = {Value}")]
    private static partial void LogRequested(ILogger logger, string key, string value);

    [LoggerMessage(EventId = 3131, Level = LogLevel.Information, Message = "the agent took {Snapshot} for VM {Vm}")]
    private static partial void LogAgentSnapshot(ILogger logger, string snapshot, string vm);

    [LoggerMessage(EventId = 3132, Level = LogLevel.Warning, Message = "no snapshot {Snapshot} from VM {Vm}'s agent in time: taking a plain (unfrozen) snapshot")]
    private static partial void LogFallback(ILogger logger, string snapshot, string vm);

    [LoggerMessage(EventId = 3133, Level = LogLevel.Warning, Message = "consul: {Reason}")]
    private static partial void LogConsulFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 3134, Level = LogLevel.Information, Message = "removed snapshot request {Key} ({Vm})")]
    private static partial void LogRequestRemoved(ILogger logger, string key, string vm);
}

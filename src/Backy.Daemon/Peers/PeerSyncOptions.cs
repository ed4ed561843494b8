namespace Backy.Daemon.Peers;

/// <summary>How long one call to a peer may take.</summary>
public sealed record PeerSyncOptions(TimeSpan CallTimeout)
{
    public const string TimeoutVariable = "BACKY_PEER_TIMEOUT";

    /// <summary>Every peer call is a quick one on the peer's side (list a directory, set tags): 30 s means the
    /// peer is stuck. A run waits at most this long per peer and step (the step ends at its first timeout), so a
    /// hanging peer delays a run by about a minute and fails nothing.</summary>
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(30);

    public static PeerSyncOptions Default { get; } = new(DefaultCallTimeout);

    /// <summary><c>BACKY_PEER_TIMEOUT</c> (seconds, &gt; 0) overrides the default (tests use a short one).</summary>
    public static PeerSyncOptions FromEnvironment() =>
        double.TryParse(Environment.GetEnvironmentVariable(TimeoutVariable), System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0
            ? new PeerSyncOptions(TimeSpan.FromSeconds(s))
            : Default;
}

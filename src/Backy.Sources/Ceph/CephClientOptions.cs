namespace Backy.Sources.Ceph;

/// <summary>
/// How Backy reaches a Ceph cluster: the rbd program and the client settings that the operator's environment
/// gives to every Ceph client. Read once from the environment (<see cref="FromEnvironment"/>); tests build one
/// directly so that they never have to change the test process's own environment.
/// </summary>
/// <param name="RbdExecutable">Path of <c>rbd</c>: <c>BACKY_RBD</c>, else <c>rbd</c> found on PATH.</param>
/// <param name="CephArgs"><c>CEPH_ARGS</c>: extra client arguments (<c>--conf</c>, <c>--id</c>, ...), passed to rbd
/// unchanged and parsed by librbd's client too.</param>
/// <param name="Cluster"><c>CEPH_CLUSTER</c>: the cluster name. rbd itself ignores that variable, so Backy turns
/// it into <c>--cluster NAME</c>.</param>
/// <param name="ConfFile"><c>CEPH_CONF</c>: the config file, when not the default for the cluster.</param>
public sealed record CephClientOptions(string RbdExecutable, string? CephArgs = null, string? Cluster = null, string? ConfFile = null)
{
    public const string RbdVariable = "BACKY_RBD";

    public static CephClientOptions FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    public static CephClientOptions FromEnvironment(Func<string, string?> getVariable) => new(
        NonEmpty(getVariable(RbdVariable)) ?? "rbd",
        NonEmpty(getVariable("CEPH_ARGS")),
        NonEmpty(getVariable("CEPH_CLUSTER")),
        NonEmpty(getVariable("CEPH_CONF")));

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

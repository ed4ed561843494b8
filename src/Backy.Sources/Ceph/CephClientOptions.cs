namespace Backy.Sources.Ceph;

/// <summary>
/// How Backy reaches a Ceph cluster: the client settings that the operator's environment gives to every Ceph
/// client (how each maps onto librados: <see cref="RbdConnection"/>), and the rbd program. Read once from the environment (<see cref="FromEnvironment"/>); tests build one
/// directly so that they never have to change the test process's own environment.
/// </summary>
/// <param name="RbdExecutable">Path of <c>rbd</c>: <c>BACKY_RBD</c>, else <c>rbd</c> found on PATH. The sources and
/// the rbd restore target run no rbd process any more (everything goes through librbd); the setting stays for
/// the tools around Backy (tests, benchmarks) that drive the CLI.</param>
/// <param name="CephArgs"><c>CEPH_ARGS</c>: extra client arguments (<c>--conf</c>, <c>--id</c>, ...), parsed the way
/// the rbd CLI parses them.</param>
/// <param name="Cluster"><c>CEPH_CLUSTER</c>: the cluster name (librados: <c>rados_create2</c>; the CLI's
/// <c>--cluster NAME</c>).</param>
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

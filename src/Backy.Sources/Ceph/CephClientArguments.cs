namespace Backy.Sources.Ceph;

/// <summary>
/// <c>CEPH_ARGS</c> split for librados, the way the rbd CLI reads it: the client name and the config file are
/// settings of <c>rados_create2</c> and <c>rados_conf_read_file</c> (the CLI handles them before its config
/// exists); everything else (<c>--mon-host</c>, <c>--keyring</c>, <c>--client-mount-timeout 5</c>, ...) goes to
/// <c>rados_conf_parse_argv</c>.
/// </summary>
internal sealed record CephClientArguments(string Name, string? ConfFile, IReadOnlyList<string> Rest)
{
    public static CephClientArguments Parse(string? cephArgs)
    {
        var words = (cephArgs ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        string name = "client.admin";
        string? conf = null;
        var rest = new List<string>();
        for (var i = 0; i < words.Length; i++)
        {
            var (key, value) = words[i].Split('=', 2) is [var k, var v] ? (k, (string?)v) : (words[i], null);
            string Next() => value ?? (i + 1 < words.Length ? words[++i] : "");
            switch (key)
            {
                case "-c" or "--conf": conf = Next(); break;
                case "-i" or "--id" or "--user": name = "client." + Next(); break;
                case "-n" or "--name": name = Next(); break;
                default: rest.Add(words[i]); break;
            }
        }
        return new CephClientArguments(name, conf, rest);
    }
}

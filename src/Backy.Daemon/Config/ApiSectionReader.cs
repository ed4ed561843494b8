using YamlDotNet.RepresentationModel;

namespace Backy.Daemon.Config;

/// <summary>Reads <c>api:</c> into <see cref="ApiConfig"/>. Its own file so the API can grow keys
/// (TLS certificate, ...) without touching the rest of the reader.</summary>
internal static class ApiSectionReader
{
    public static ApiConfig Read(YamlErrors errors, YamlNode? node)
    {
        const string path = "api";
        var config = new ApiConfig();
        var m = errors.Mapping(node, path, required: false);
        if (m is null)
            return config;
        errors.RejectUnknownKeys(m, path, "addrs", "port", "tokens", "cli-default", "tls-cert", "tls-key", "metrics-port");

        if (errors.Scalar(YamlErrors.Get(m, "addrs"), "api.addrs", required: false) is { } addrs)
        {
            var list = addrs.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            foreach (var a in list.Where(a => !System.Net.IPAddress.TryParse(a, out _) && a != "localhost"))
                errors.Add("api.addrs", YamlErrors.Get(m, "addrs"), $"'{a}' is not an IP address");
            config = config with { Addrs = list };
        }
        // 0 = any free port: only useful for tests that run several daemons side by side.
        if (errors.Integer(YamlErrors.Get(m, "port"), "api.port", 0, 65535) is { } port)
            config = config with { Port = port };
        if (errors.Integer(YamlErrors.Get(m, "metrics-port"), "api.metrics-port", 0, 65535) is { } metricsPort)
            config = config with { MetricsPort = metricsPort };

        if (errors.Mapping(YamlErrors.Get(m, "tokens"), "api.tokens", required: false) is { } tm)
        {
            var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (token, _, v) in errors.Entries(tm, "api.tokens"))
                if (errors.Scalar(v, $"api.tokens.{token}") is { } client)
                    tokens[token] = client;
            config = config with { Tokens = tokens };
        }
        if (errors.Mapping(YamlErrors.Get(m, "cli-default"), "api.cli-default", required: false) is { } cm)
        {
            errors.RejectUnknownKeys(cm, "api.cli-default", "token");
            config = config with { CliDefaultToken = errors.Scalar(YamlErrors.Get(cm, "token"), "api.cli-default.token") };
        }
        return ReadTls(errors, m, config);
    }

    private static ApiConfig ReadTls(YamlErrors errors, YamlMappingNode m, ApiConfig config)
    {
        var cert = errors.Scalar(YamlErrors.Get(m, "tls-cert"), "api.tls-cert", required: false);
        var key = errors.Scalar(YamlErrors.Get(m, "tls-key"), "api.tls-key", required: false);
        if ((cert is null) != (key is null))
        {
            var (missing, given) = cert is null ? ("api.tls-cert", "tls-key") : ("api.tls-key", "tls-cert");
            errors.Add(missing, null, $"missing: TLS needs both tls-cert and tls-key ({given} is set)");
            return config;
        }
        foreach (var (path, file) in new[] { ("api.tls-cert", cert), ("api.tls-key", key) })
            if (file is not null && !File.Exists(file))
                errors.Add(path, YamlErrors.Get(m, path[4..]), $"no such file '{file}'");
        return config with { TlsCert = cert, TlsKey = key };
    }
}

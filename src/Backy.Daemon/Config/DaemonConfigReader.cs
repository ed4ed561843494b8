using Backy.Storage;
using Backy.Storage.Schedules;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Backy.Daemon.Config;

/// <summary>
/// Reads <c>/etc/backy.conf</c> into a <see cref="DaemonConfig"/>. Every mistake is collected (key path
/// and line) and thrown together as one <see cref="ConfigValidationException"/>; nothing starts on a
/// configuration with errors.
/// </summary>
public static class DaemonConfigReader
{
    public const string DefaultPath = "/etc/backy.conf";

    public static DaemonConfig Load(string path) => Parse(ReadText(path), path);

    /// <summary>
    /// The <c>api</c> and <c>peers</c> sections alone, for <c>backy client</c>: a mistake in a job or a
    /// schedule (which the running daemon may not even have loaded) must not cut the operator off from
    /// the daemon. Errors in api or peers, or YAML that cannot be read at all, still throw; errors
    /// elsewhere become <see cref="ClientConfig.Warning"/>.
    /// </summary>
    public static ClientConfig LoadForClient(string path)
    {
        var text = ReadText(path);
        var errors = new YamlErrors();
        var root = LoadRoot(text, path);
        var top = errors.Mapping(root, "")
            ?? throw new ConfigValidationException(path, [new ConfigError("(top level)", root is null ? null : YamlErrors.LineOf(root), "expected a mapping with global, api, peers, schedules and jobs")]);
        var api = ApiSectionReader.Read(errors, YamlErrors.Get(top, "api"));
        var peers = ReadPeers(errors, YamlErrors.Get(top, "peers"));
        if (errors.Errors.Count > 0)
            throw new ConfigValidationException(path, errors.Errors.OrderBy(e => e.Line ?? 0).ToArray());

        string? warning = null;
        try { Parse(text, path); }
        catch (ConfigValidationException e)
        {
            var n = e.Errors.Count;
            warning = $"{path} has {n} error{(n == 1 ? "" : "s")} outside api and peers, the daemon will refuse to load it"
                      + $" (first: {e.Errors[0].Format(path)})";
        }
        return new ClientConfig(api, peers, warning);
    }

    private static string ReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"cannot read configuration '{path}' - {e.Message}", e);
        }
    }

    public static DaemonConfig Parse(string yaml, string source)
    {
        var errors = new YamlErrors();
        var root = LoadRoot(yaml, source);
        var top = errors.Mapping(root, "");
        if (top is null)
            throw new ConfigValidationException(source, [new ConfigError("(top level)", root is null ? null : YamlErrors.LineOf(root), "expected a mapping with global, api, peers, schedules and jobs")]);

        errors.RejectUnknownKeys(top, "", "global", "api", "peers", "schedules", "copies", "jobs");
        var global = ReadGlobal(errors, YamlErrors.Get(top, "global"));
        var api = ApiSectionReader.Read(errors, YamlErrors.Get(top, "api"));
        var peers = ReadPeers(errors, YamlErrors.Get(top, "peers"));
        var schedules = ReadSchedules(errors, YamlErrors.Get(top, "schedules"), out var broken);
        var copies = CopySectionReader.Read(errors, YamlErrors.Get(top, "copies"));
        var jobs = JobSectionReader.Read(errors, YamlErrors.Get(top, "jobs"), schedules, broken, copies, global?.Compression);

        if (errors.Errors.Count > 0)
            throw new ConfigValidationException(source, errors.Errors.OrderBy(e => e.Line ?? 0).ToArray());
        return new DaemonConfig(source, global!, api, peers, schedules, jobs);
    }

    private static YamlNode? LoadRoot(string yaml, string source)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            return stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        }
        catch (YamlException e)
        {
            // Duplicate keys land here too (YamlDotNet reports them as a parse error with a position).
            var message = e.InnerException?.Message ?? e.Message;
            throw new ConfigValidationException(source, [new ConfigError("(syntax)", (int)e.Start.Line, message)]);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet's parser throws this instead of YamlException on some malformed input (ParserFuzzTests).
            throw new ConfigValidationException(source, [new ConfigError("(syntax)", 0, "malformed YAML - " + e.Message)]);
        }
    }

    private static GlobalConfig? ReadGlobal(YamlErrors errors, YamlNode? node)
    {
        const string path = "global";
        var m = errors.Mapping(node, path);
        if (m is null)
            return null;
        errors.RejectUnknownKeys(m, path, "base-dir", "worker-limit", "backup-completed-callback", "compression");
        var baseDir = errors.Scalar(YamlErrors.Get(m, "base-dir"), "global.base-dir");
        if (baseDir is not null && !Path.IsPathFullyQualified(baseDir))
        {
            errors.Add("global.base-dir", YamlErrors.Get(m, "base-dir"), $"'{baseDir}' is not an absolute path");
            baseDir = null;
        }
        var limit = errors.Integer(YamlErrors.Get(m, "worker-limit"), "global.worker-limit", 1, 1000) ?? GlobalConfig.DefaultWorkerLimit;
        var callback = errors.Scalar(YamlErrors.Get(m, "backup-completed-callback"), "global.backup-completed-callback", required: false);
        var compression = CompressionSetting.Read(errors, m, path);
        return baseDir is null ? null : new GlobalConfig(Path.TrimEndingDirectorySeparator(baseDir), limit, callback, compression);
    }

    private static Dictionary<string, PeerConfig> ReadPeers(YamlErrors errors, YamlNode? node)
    {
        var peers = new Dictionary<string, PeerConfig>(StringComparer.Ordinal);
        var m = errors.Mapping(node, "peers", required: false);
        if (m is null)
            return peers;
        foreach (var (name, _, value) in errors.Entries(m, "peers"))
        {
            var path = $"peers.{name}";
            var pm = errors.Mapping(value, path);
            if (pm is null)
                continue;
            errors.RejectUnknownKeys(pm, path, "url", "token");
            var url = errors.Scalar(YamlErrors.Get(pm, "url"), path + ".url");
            var token = errors.Scalar(YamlErrors.Get(pm, "token"), path + ".token");
            Uri? uri = null;
            if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out uri) || uri.Scheme is not ("http" or "https")))
                errors.Add(path + ".url", YamlErrors.Get(pm, "url"), $"'{url}' is not an http(s) URL");
            if (uri is not null && token is not null)
                peers[name] = new PeerConfig(name, uri, token);
        }
        return peers;
    }

    /// <param name="broken">Schedules that are defined but have errors (already reported): jobs that use
    /// one get no second "unknown schedule" error each.</param>
    private static Dictionary<string, Schedule> ReadSchedules(YamlErrors errors, YamlNode? node, out HashSet<string> broken)
    {
        var schedules = new Dictionary<string, Schedule>(StringComparer.Ordinal);
        broken = new HashSet<string>(StringComparer.Ordinal);
        var m = errors.Mapping(node, "schedules");
        if (m is null)
            return schedules;
        foreach (var (name, _, value) in errors.Entries(m, "schedules"))
        {
            var path = $"schedules.{name}";
            broken.Add(name);
            var sm = errors.Mapping(value, path);
            if (sm is null)
                continue;
            var mapping = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
            foreach (var (tag, _, tagValue) in errors.Entries(sm, path))
            {
                var tm = errors.Mapping(tagValue, $"{path}.{tag}");
                if (tm is null)
                    continue;
                var props = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (key, _, v) in errors.Entries(tm, $"{path}.{tag}"))
                    if (errors.Scalar(v, $"{path}.{tag}.{key}") is { } text)
                        props[key] = text;
                mapping[tag] = props;
            }
            if (mapping.Count == 0)
            {
                errors.Add(path, value, "a schedule needs at least one tag with interval and keep");
                continue;
            }
            try
            {
                schedules[name] = Schedule.FromMapping(mapping, path);
                broken.Remove(name);
            }
            catch (ConfigException e)
            {
                // FromMapping reports "path: reason" lines; give each its line number back.
                foreach (var line in e.Message.Split(Environment.NewLine))
                {
                    var colon = line.IndexOf(": ", StringComparison.Ordinal);
                    var (keyPath, reason) = colon > 0 && line.StartsWith(path, StringComparison.Ordinal)
                        ? (line[..colon], line[(colon + 2)..]) : (path, line);
                    errors.Add(keyPath, null, reason);
                }
            }
        }
        return schedules;
    }
}

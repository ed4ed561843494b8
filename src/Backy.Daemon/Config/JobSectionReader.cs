using Backy.Storage.Chunks;
using Backy.Storage.Copies;
using Backy.Storage.Schedules;
using YamlDotNet.RepresentationModel;

namespace Backy.Daemon.Config;

/// <summary>Reads <c>jobs:</c>: each job names a schedule (which must exist) and a source whose type
/// and keys must be known.</summary>
internal static class JobSectionReader
{
    /// <param name="brokenSchedules">Defined with errors (reported there): a job naming one is not an error of its own.</param>
    public static Dictionary<string, JobDefinition> Read(YamlErrors errors, YamlNode? node, IReadOnlyDictionary<string, Schedule> schedules, IReadOnlySet<string> brokenSchedules,
        IReadOnlyDictionary<string, CopyTarget>? copies = null, ChunkCompression? globalCompression = null)
    {
        var jobs = new Dictionary<string, JobDefinition>(StringComparer.Ordinal);
        var m = errors.Mapping(node, "jobs", required: false);
        if (m is null)
            return jobs;
        foreach (var (name, keyNode, value) in errors.Entries(m, "jobs"))
        {
            var path = $"jobs.{name}";
            if (!IsDirectoryName(name))
                errors.Add(path, keyNode, "a job name must be usable as a directory name (no '/', not starting with '.')");
            var jm = errors.Mapping(value, path);
            if (jm is null)
                continue;
            errors.RejectUnknownKeys(jm, path, "schedule", "source", "copies", "compression");

            var scheduleName = errors.Scalar(YamlErrors.Get(jm, "schedule"), path + ".schedule");
            Schedule? schedule = null;
            if (scheduleName is not null && !schedules.TryGetValue(scheduleName, out schedule) && !brokenSchedules.Contains(scheduleName))
                errors.Add(path + ".schedule", YamlErrors.Get(jm, "schedule"),
                    $"unknown schedule '{scheduleName}' (defined: {(schedules.Count == 0 ? "none" : string.Join(", ", schedules.Keys))})");

            var source = ReadSource(errors, YamlErrors.Get(jm, "source"), path + ".source");
            var jobCopies = CopySectionReader.ReadJobCopies(errors, YamlErrors.Get(jm, "copies"), path + ".copies", copies ?? new Dictionary<string, CopyTarget>());
            var compression = CompressionSetting.Read(errors, jm, path) ?? globalCompression;
            if (schedule is not null && source is not null && IsDirectoryName(name))
                jobs[name] = new JobDefinition(name, scheduleName!, schedule, source, compression) { Copies = new CopyList(jobCopies) };
        }
        return jobs;
    }

    private static SourceDefinition? ReadSource(YamlErrors errors, YamlNode? node, string path)
    {
        var sm = errors.Mapping(node, path);
        if (sm is null)
            return null;
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, _, v) in errors.Entries(sm, path))
            if (key != "type" && errors.Scalar(v, $"{path}.{key}") is { } text)
                settings[key] = text;

        var type = errors.Scalar(YamlErrors.Get(sm, "type"), path + ".type");
        if (type is null)
            return null;
        if (!SourceTypes.IsKnown(type))
        {
            errors.Add(path + ".type", YamlErrors.Get(sm, "type"), $"unknown source type '{type}' (known: {string.Join(", ", SourceTypes.Names)})");
            return null;
        }
        var ok = true;
        foreach (var (key, reason) in SourceTypes.Check(type, settings))
        {
            errors.Add($"{path}.{key}", YamlErrors.Get(sm, key) ?? sm, reason);
            ok = false;
        }
        return ok ? new SourceDefinition(type, settings) : null;
    }

    private static bool IsDirectoryName(string name) =>
        !name.StartsWith('.') && name.IndexOfAny(['/', '\0']) < 0 && name.Trim() == name;
}

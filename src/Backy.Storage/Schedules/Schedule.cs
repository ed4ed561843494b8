namespace Backy.Storage.Schedules;

/// <summary>One run interval of a schedule: revisions tagged <paramref name="Tag"/> are made every
/// <paramref name="Interval"/> and <paramref name="Keep"/> of them are kept.</summary>
public sealed record ScheduleInterval(string Tag, TimeSpan Interval, int Keep);

/// <summary>
/// A schedule as configured under <c>schedules:</c>: a set of tagged intervals. Immutable.
/// The arithmetic on it (next run, expire, SLA, spread) lives beside it in this folder.
/// </summary>
public sealed partial class Schedule
{
    public IReadOnlyList<ScheduleInterval> Intervals { get; }

    public Schedule(IEnumerable<ScheduleInterval> intervals)
    {
        // Sorted by interval, shortest first: that is also the order in which tags are shown.
        Intervals = intervals.OrderBy(i => i.Interval).ThenBy(i => i.Tag, StringComparer.Ordinal).ToArray();
        var dup = Intervals.GroupBy(i => i.Tag).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null)
            throw new ConfigException($"schedule defines tag '{dup.Key}' twice");
    }

    public bool HasTag(string tag) => Intervals.Any(i => i.Tag == tag);

    public ScheduleInterval? Find(string tag) => Intervals.FirstOrDefault(i => i.Tag == tag);

    /// <summary>Parses the YAML shape <c>{TAG: {interval: "1d", keep: 7}, ...}</c> already read into strings.</summary>
    public static Schedule FromMapping(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> mapping, string keyPath = "schedule")
    {
        var errors = new List<string>();
        var list = new List<ScheduleInterval>();
        foreach (var (tag, props) in mapping)
        {
            if (string.IsNullOrWhiteSpace(tag) || tag.Contains(',') || tag.StartsWith("manual:", StringComparison.Ordinal))
                errors.Add($"{keyPath}.{tag}: invalid tag name");
            TimeSpan interval = default;
            int keep = 0;
            if (!props.TryGetValue("interval", out var iv))
                errors.Add($"{keyPath}.{tag}.interval: missing");
            else
                try { interval = Durations.Parse(iv); }
                catch (ConfigException e) { errors.Add($"{keyPath}.{tag}.interval: {e.Message}"); }
            if (!props.TryGetValue("keep", out var kv))
                errors.Add($"{keyPath}.{tag}.keep: missing");
            else if (!int.TryParse(kv, out keep) || keep <= 0)
                errors.Add($"{keyPath}.{tag}.keep: '{kv}' is not a positive integer");
            foreach (var key in props.Keys.Where(k => k is not ("interval" or "keep")))
                errors.Add($"{keyPath}.{tag}.{key}: unknown key");
            list.Add(new ScheduleInterval(tag, interval, keep));
        }
        if (errors.Count > 0)
            throw new ConfigException(string.Join(Environment.NewLine, errors));
        return new Schedule(list);
    }

    /// <summary>The inverse of <see cref="FromMapping"/>, for writing a job's config file.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> ToMapping() =>
        Intervals.ToDictionary(
            i => i.Tag,
            i => (IReadOnlyDictionary<string, string>)new Dictionary<string, string>
            {
                ["interval"] = Durations.Format(i.Interval),
                ["keep"] = i.Keep.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
}

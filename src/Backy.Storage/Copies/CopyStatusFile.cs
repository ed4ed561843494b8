using System.Globalization;
using Backy.Storage.IO;
using Backy.Storage.Jobs;
using YamlDotNet.RepresentationModel;

namespace Backy.Storage.Copies;

/// <summary>
/// <c>JOB/copies/NAME.status</c>: when the last copy to a target succeeded and how the last attempt ended, so
/// that the daemon and <c>client check</c> know how far behind a copy is without talking to the store.
/// Written by <c>backy copy</c> after every attempt. <see cref="Failures"/>: consecutive failed attempts since the
/// last success (the daemon's back-off, <see cref="CopyBackoff"/>); <see cref="CopiedThrough"/>: the timestamp of
/// the newest local revision the last successful copy had (every complete revision up to it is in the copy or was
/// never to be copied): the copy-lag metric compares the job's revisions with it, no request to the store.
/// </summary>
public sealed record CopyStatusFile(DateTimeOffset? LastSuccess, DateTimeOffset LastAttempt, string? LastError, string Url)
{
    public int Failures { get; init; }
    public DateTimeOffset? CopiedThrough { get; init; }

    /// <summary>The status after a failed attempt at <paramref name="attempt"/>, following <paramref name="previous"/>.</summary>
    public static CopyStatusFile Failed(CopyStatusFile? previous, DateTimeOffset attempt, string error, string url) =>
        new(previous?.LastSuccess, attempt, error, url) { Failures = (previous?.Failures ?? 0) + 1, CopiedThrough = previous?.CopiedThrough };

    /// <summary>
    /// How long the copy has been behind: the age of the oldest complete local revision newer than
    /// <see cref="CopiedThrough"/> of <paramref name="status"/> (every one, when no copy succeeded yet); zero when
    /// the copy has them all. Local facts only, so a metrics scrape never asks the store.
    /// </summary>
    public static TimeSpan Lag(IEnumerable<Revisions.Revision> revisions, CopyStatusFile? status, DateTimeOffset now)
    {
        var through = status?.CopiedThrough;
        var oldest = revisions.Where(r => r.IsComplete && r.IsLocal && (through is null || r.Timestamp > through))
            .Select(r => (DateTimeOffset?)r.Timestamp).Min();
        return oldest is { } t && now > t ? now - t : TimeSpan.Zero;
    }

    public static string PathFor(string jobDirectory, string name) => Path.Combine(jobDirectory, JobLayout.CopiesDirectoryName, name + ".status");

    public static CopyStatusFile? TryRead(string jobDirectory, string name)
    {
        try
        {
            var map = YamlTree.ParseMapping(File.ReadAllText(PathFor(jobDirectory, name)));
            static DateTimeOffset? Time(string? s) => string.IsNullOrEmpty(s) ? null
                : DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            return new CopyStatusFile(Time(YamlTree.Scalar(map, "last-success")), Time(YamlTree.Scalar(map, "last-attempt")) ?? DateTimeOffset.MinValue,
                YamlTree.Scalar(map, "last-error") is { Length: > 0 } e ? e : null, YamlTree.Scalar(map, "url") ?? "")
            {
                Failures = int.TryParse(YamlTree.Scalar(map, "failures"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0,
                CopiedThrough = Time(YamlTree.Scalar(map, "copied-through")),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BackyException or FormatException or YamlDotNet.Core.YamlException)
        {
            return null;
        }
    }

    public void Write(string jobDirectory, string name)
    {
        static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var map = new YamlMappingNode
        {
            { "url", YamlTree.Quoted(Url) },
            { "last-attempt", Time(LastAttempt) },
            { "last-success", LastSuccess is { } s ? Time(s) : "" },
            { "last-error", YamlTree.Quoted(LastError ?? "") },
            { "failures", Failures.ToString(CultureInfo.InvariantCulture) },
            { "copied-through", CopiedThrough is { } c ? c.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture) : "" },
        };
        var path = PathFor(jobDirectory, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        DurableFile.WriteAllText(path, YamlTree.Serialize(map));
    }
}

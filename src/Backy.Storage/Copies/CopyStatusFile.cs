using System.Globalization;
using Backy.Storage.IO;
using Backy.Storage.Jobs;
using YamlDotNet.RepresentationModel;

namespace Backy.Storage.Copies;

/// <summary>
/// <c>JOB/copies/NAME.status</c>: when the last copy to a target succeeded and how the last attempt ended, so
/// that the daemon and <c>client check</c> know how far behind a copy is without talking to the store.
/// Written by <c>backy copy</c> after every attempt.
/// </summary>
public sealed record CopyStatusFile(DateTimeOffset? LastSuccess, DateTimeOffset LastAttempt, string? LastError, string Url)
{
    public static string PathFor(string jobDirectory, string name) => Path.Combine(jobDirectory, JobLayout.CopiesDirectoryName, name + ".status");

    public static CopyStatusFile? TryRead(string jobDirectory, string name)
    {
        try
        {
            var map = YamlTree.ParseMapping(File.ReadAllText(PathFor(jobDirectory, name)));
            static DateTimeOffset? Time(string? s) => string.IsNullOrEmpty(s) ? null
                : DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            return new CopyStatusFile(Time(YamlTree.Scalar(map, "last-success")), Time(YamlTree.Scalar(map, "last-attempt")) ?? DateTimeOffset.MinValue,
                YamlTree.Scalar(map, "last-error") is { Length: > 0 } e ? e : null, YamlTree.Scalar(map, "url") ?? "");
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
        };
        var path = PathFor(jobDirectory, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        DurableFile.WriteAllText(path, YamlTree.Serialize(map));
    }
}

using Backy.Storage.Jobs;
using Backy.Storage.Revisions;
using Backy.Storage.Schedules;

namespace Backy.Tests.Editing;

/// <summary>A real job directory in a temp folder with a config and hand-made revisions.</summary>
internal sealed class JobFixture : IDisposable
{
    public static readonly DateTimeOffset Now = new(2015, 11, 6, 12, 0, 0, TimeSpan.Zero);

    public JobDirectory Job { get; }

    public JobFixture(string scheduleYaml = "  daily: {interval: 1d, keep: 2}\n  weekly: {interval: 1w, keep: 2}\n")
    {
        var path = Path.Combine(Path.GetTempPath(), "backy-sched-" + Guid.NewGuid().ToString("N"), "test01");
        Directory.CreateDirectory(path);
        Job = new JobDirectory(path);
        var schedule = scheduleYaml.Length == 0 ? "" : "schedule:\n" + scheduleYaml;
        File.WriteAllText(Job.ConfigPath, "source:\n  type: file\n  filename: /dev/null\n" + schedule);
    }

    public Revision Add(DateTimeOffset at, string tags, bool complete = true, string server = "", Trust trust = Trust.Trusted)
    {
        var r = new Revision
        {
            Id = RevisionId.New(),
            Timestamp = at,
            Tags = new SortedSet<string>(TagSet.Parse(tags), StringComparer.Ordinal),
            OrigTags = new SortedSet<string>(TagSet.Parse(tags), StringComparer.Ordinal),
            Server = server,
            Trust = trust,
            Duration = complete ? 12.5 : null,
            BytesWritten = complete ? 4096 : 0, // what our backup writes before it finishes (else the .rev is damaged)
        };
        Job.WriteRevision(r);
        // A chunk map stand-in, so that removal can be seen to delete it too.
        if (r.IsLocal)
            File.WriteAllBytes(Job.ChunkMapPath(r.Id), [1, 2, 3]);
        return r;
    }

    public Revision Reload(Revision r) => Job.LoadRevision(r.Id);

    public bool Exists(Revision r) => File.Exists(Job.RevisionPath(r.Id));

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(Job.Path)!, recursive: true);
}

using Backy.Daemon.Scheduling;
using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Daemon;

public class HousekeepingTests
{
    private static void Age(string dir, TimeSpan age)
    {
        var when = DateTime.UtcNow - age;
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
            File.SetLastWriteTimeUtc(entry, when);
        Directory.SetLastWriteTimeUtc(dir, when);
    }

    private static string MakeDir(DaemonTestBed bed, string name, TimeSpan age)
    {
        var dir = bed.JobDir(name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "x.rev"), "uuid: x\n");
        Age(dir, age);
        return dir;
    }

    [Test, CancelAfter(30_000)]
    public async Task Dead_directories_older_than_3_months_go_and_purge_pending_ones_are_purged(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("1d", 1, "active");
        var active = MakeDir(bed, "active", TimeSpan.FromDays(200));
        var oldDead = MakeDir(bed, "old-dead", TimeSpan.FromDays(91));
        var recentDead = MakeDir(bed, "recent-dead", TimeSpan.FromDays(80));
        var marked = MakeDir(bed, "marked", TimeSpan.FromDays(1));
        File.WriteAllText(Path.Combine(marked, Backy.Storage.Jobs.JobLayout.PurgePendingMarker), "");
        await using var daemon = await InProcessDaemon.StartAsync(bed, ct);

        await daemon.Housekeeping.RunOnceAsync(ct);

        Assert.That(Directory.Exists(oldDead), Is.False, "dead and unchanged for 91 days");
        Assert.That(Directory.Exists(recentDead), Is.True, "dead but changed 80 days ago");
        Assert.That(Directory.Exists(active), Is.True, "configured jobs are never removed");
        Assert.That(bed.Worker.Records().Where(r => r.Kind == "end").Select(r => (r.Action, r.Job)), Does.Contain(("purge", "marked")));
        Assert.That(File.Exists(Path.Combine(marked, Backy.Storage.Jobs.JobLayout.PurgePendingMarker)), Is.False);
        Assert.That(Directory.Exists(marked), Is.True);
    }
}

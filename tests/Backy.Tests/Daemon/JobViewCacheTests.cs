using Backy.Daemon.Views;
using Backy.Tests.Api;
using Backy.Storage.Jobs;
using Backy.Tests.Schedules;

namespace Backy.Tests.Daemon;

/// <summary>The one job view cache serves a job directory's view until the directory or its quarantine changes.</summary>
public class JobViewCacheTests
{
    private string _dir = null!;
    private JobDirectory _job = null!;
    private FakeClock _clock = null!;
    private JobViewCache _cache = null!;
    private int _reads;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("backy-facts-").FullName;
        _job = new JobDirectory(_dir);
        _clock = new FakeClock(DateTimeOffset.UtcNow);
        _cache = new JobViewCache(_clock);
        _reads = 0;
        _job.WriteRevision(JobsServiceTests.Rev(_clock.GetUtcNow().AddHours(-1), ["daily", "manual:a"]));
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private JobView Get() => _cache.Get(_dir, () => { _reads++; return JobView.Read(_dir); });

    private void Settle() => _clock.Advance(JobViewCache.Settle + TimeSpan.FromSeconds(1));

    [Test]
    public void A_settled_unchanged_directory_is_read_once()
    {
        Settle();
        Assert.That(Get().LocalRevisions, Is.EqualTo(1));
        Assert.That(Get().LocalRevisions, Is.EqualTo(1));
        Assert.That(_reads, Is.EqualTo(1));
    }

    [Test]
    public void A_directory_changed_moments_ago_is_read_every_time()
    {
        Get();
        Get();
        Assert.That(_reads, Is.EqualTo(2), "mtime within the settle time: a second change could hide behind it");
    }

    [Test]
    public void A_new_revision_or_a_tag_change_is_seen_at_once()
    {
        Settle();
        Get();
        Directory.SetLastWriteTimeUtc(_dir, DateTime.UtcNow.AddMinutes(-10)); // make the next change's mtime differ for sure
        Settle();
        Get();
        var readsBefore = _reads;

        var rev = JobsServiceTests.Rev(_clock.GetUtcNow().AddMinutes(-30), ["manual:b"]);
        _job.WriteRevision(rev);
        Settle();
        var facts = Get();

        Assert.That(_reads, Is.EqualTo(readsBefore + 1));
        Assert.That(facts.LocalRevisions, Is.EqualTo(2));
        Assert.That(facts.ManualTags, Is.EqualTo(new[] { "manual:a", "manual:b" }));

        // A tag change rewrites an existing .rev (by rename): seen at once too.
        Directory.SetLastWriteTimeUtc(_dir, DateTime.UtcNow.AddMinutes(-10));
        Settle();
        Get();
        rev.Tags.Add("manual:c");
        _job.WriteRevision(rev);
        Settle();
        Assert.That(Get().ManualTags, Is.EqualTo(new[] { "manual:a", "manual:b", "manual:c" }));
    }

    [Test]
    public void A_new_quarantine_report_is_seen_at_once()
    {
        var old = DateTime.UtcNow.AddMinutes(-10);
        Directory.SetLastWriteTimeUtc(_dir, old);
        Settle();
        Assert.That(Get().QuarantineReports, Is.Zero);
        Get();
        Assert.That(_reads, Is.EqualTo(1));

        _job.Quarantine.Add("rev1", 0, 0, new byte[] { 1 }, new byte[] { 2 }, _clock.GetUtcNow());
        Directory.SetLastWriteTimeUtc(_dir, old); // only the quarantine directory changed
        Directory.SetLastWriteTimeUtc(_job.Quarantine.Directory, DateTime.UtcNow.AddMinutes(-5));
        Settle();

        Assert.That(Get().QuarantineReports, Is.EqualTo(1));
        Assert.That(_reads, Is.EqualTo(2));
    }
}

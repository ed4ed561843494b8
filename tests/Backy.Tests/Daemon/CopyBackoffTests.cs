using Backy.Storage.Copies;

namespace Backy.Tests.Daemon;

/// <summary>When the daemon tries a failing copy target again (<see cref="CopyBackoff"/>), and that the state
/// it needs survives in copies/NAME.status.</summary>
public class CopyBackoffTests
{
    private static readonly DateTimeOffset Attempt = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private static CopyStatusFile Failed(int failures) => new(null, Attempt, "403 InvalidAccessKeyId", "s3://b/j") { Failures = failures };

    [Test]
    public void Without_a_failure_the_copy_is_due_at_every_run()
    {
        Assert.That(CopyBackoff.NextAttempt(null, Hour), Is.Null);
        Assert.That(CopyBackoff.NextAttempt(new CopyStatusFile(Attempt, Attempt, null, "u"), Hour), Is.Null);
    }

    [TestCase(1, 0.5)]  // the next run (one interval later) tries again
    [TestCase(2, 1.5)]  // skips one run
    [TestCase(3, 3.5)]  // skips three
    [TestCase(4, 7.5)]
    [TestCase(6, 23.5)] // capped at a day
    [TestCase(40, 23.5)]
    public void The_wait_doubles_per_failure_from_one_interval_and_is_capped_at_a_day(int failures, double hours)
    {
        Assert.That(CopyBackoff.NextAttempt(Failed(failures), Hour), Is.EqualTo(Attempt + TimeSpan.FromHours(hours)));
        Assert.That(CopyBackoff.IsDue(Failed(failures), Hour, Attempt + TimeSpan.FromHours(hours) - TimeSpan.FromSeconds(1)), Is.False);
        Assert.That(CopyBackoff.IsDue(Failed(failures), Hour, Attempt + TimeSpan.FromHours(hours)), Is.True);
    }

    [Test]
    public void A_job_with_intervals_longer_than_a_day_tries_at_every_run()
    {
        var week = TimeSpan.FromDays(7);
        Assert.That(CopyBackoff.NextAttempt(Failed(5), week), Is.EqualTo(Attempt + week / 2));
    }

    [Test]
    public void The_copy_lag_is_the_age_of_the_oldest_local_revision_the_copy_lacks()
    {
        Backy.Storage.Revisions.Revision Rev(int hoursAgo, double? duration = 1) => new()
        {
            Id = Backy.Storage.Revisions.RevisionId.New(), Timestamp = Attempt - TimeSpan.FromHours(hoursAgo), Duration = duration,
        };
        var revisions = new[] { Rev(30), Rev(20), Rev(10), Rev(1, duration: null) }; // the last one is still running
        CopyStatusFile Through(int i) => new(Attempt, Attempt, null, "u") { CopiedThrough = revisions[i].Timestamp };
        Assert.That(CopyStatusFile.Lag(revisions, null, Attempt), Is.EqualTo(TimeSpan.FromHours(30)), "never copied");
        Assert.That(CopyStatusFile.Lag(revisions, Through(0), Attempt), Is.EqualTo(TimeSpan.FromHours(20)));
        Assert.That(CopyStatusFile.Lag(revisions, Through(2), Attempt), Is.EqualTo(TimeSpan.Zero), "up to date");
    }

    [Test]
    public void The_failure_count_and_the_copied_revisions_survive_in_the_status_file()
    {
        var dir = Directory.CreateTempSubdirectory("backy-copy-status-").FullName;
        try
        {
            var through = new DateTimeOffset(2026, 3, 1, 11, 59, 58, 123, TimeSpan.Zero);
            var first = CopyStatusFile.Failed(new CopyStatusFile(Attempt, Attempt, null, "s3://b/j") { CopiedThrough = through }, Attempt.AddHours(1), "boom", "s3://b/j");
            first.Write(dir, "offsite");
            var second = CopyStatusFile.Failed(CopyStatusFile.TryRead(dir, "offsite"), Attempt.AddHours(2), "boom again", "s3://b/j");
            second.Write(dir, "offsite");
            var read = CopyStatusFile.TryRead(dir, "offsite")!;
            Assert.That(read.Failures, Is.EqualTo(2));
            Assert.That(read.LastSuccess, Is.EqualTo(Attempt));
            Assert.That(read.LastAttempt, Is.EqualTo(Attempt.AddHours(2)));
            Assert.That(read.CopiedThrough, Is.EqualTo(through), "sub-second precision: revisions are compared with it");
            Assert.That(CopyBackoff.NextAttempt(read, Hour), Is.EqualTo(Attempt.AddHours(2) + TimeSpan.FromHours(1.5)));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

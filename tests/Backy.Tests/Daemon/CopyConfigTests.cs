using Backy.Daemon.Config;
using Backy.Daemon.Scheduling;
using Backy.Storage.Copies;
using Backy.Storage.Jobs;

namespace Backy.Tests.Daemon;

public class CopyConfigTests
{
    private static string Config(string copies, string jobCopies) => $"""
        global:
          base-dir: /srv/backy
        schedules:
          default:
            daily: {"{"}interval: 1d, keep: 9{"}"}
        {copies}
        jobs:
          vm1:
            schedule: default
            source: {"{"}type: file, filename: /srv/img/vm1{"}"}
            {jobCopies}
        """;

    [Test]
    public void Every_copy_mistake_is_reported_at_once_with_its_key_path_and_no_secret()
    {
        var yaml = Config("""
            copies:
              offsite:
                type: ftp
                bucket: B
                endpoint: not a url
                secret-key: hunter2-very-secret
                object-lock-days: soon
                colour: blue
            """, "copies: [offsite, elsewhere]");
        var e = Assert.Throws<ConfigValidationException>(() => DaemonConfigReader.Parse(yaml, "backy.conf"))!;
        var paths = e.Errors.Select(x => x.KeyPath).ToList();
        Assert.That(paths, Is.SupersetOf(new[]
        {
            "copies.offsite.type", "copies.offsite.bucket", "copies.offsite.endpoint", "copies.offsite.access-key",
            "copies.offsite.object-lock-days", "copies.offsite.colour", "jobs.vm1.copies[0]", "jobs.vm1.copies[1]",
        }));
        Assert.That(e.Message, Does.Not.Contain("hunter2"));
        Assert.That(e.Errors.All(x => x.Line is > 0), Is.True, "each error has its line");
    }

    [Test]
    public void A_job_config_gets_the_resolved_targets_and_is_private_when_a_secret_is_inline()
    {
        var dir = Path.Combine(Path.GetTempPath(), "backy-copycfg-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var config = DaemonConfigReader.Parse(Config("""
                copies:
                  offsite:
                    type: s3
                    endpoint: http://127.0.0.1:7480
                    bucket: backy
                    prefix: site-a
                    access-key: AK
                    secret-key: SK
                    object-lock-days: 30
                """, "copies: [offsite]"), "backy.conf");
            var job = config.Jobs["vm1"];
            Assert.That(job.Copies.Targets.Single().Name, Is.EqualTo("offsite"));
            Assert.That(JobConfigFile.WriteIfChanged(dir, job), Is.True);
            var path = Path.Combine(dir, JobLayout.ConfigFileName);
            if (OperatingSystem.IsLinux()) Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
            Assert.That(JobConfig.Load(path).Source.Type, Is.EqualTo("file"), "the job config still reads");
            var target = JobCopies.Load(path)["offsite"];
            Assert.That(target, Is.EqualTo(job.Copies.Targets.Single()));
            Assert.That(target.Prefix, Is.EqualTo("site-a/"));
            Assert.That(target.ObjectLockDays, Is.EqualTo(30));
            Assert.That(target.ToString(), Does.Not.Contain("SK"));
            Assert.That(JobConfigFile.WriteIfChanged(dir, job), Is.False, "unchanged");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Test]
    public void Copy_targets_compare_by_value_so_that_a_reload_sees_a_changed_target()
    {
        var yaml = Config("copies:\n  offsite: {type: s3, bucket: backy, access-key: AK, secret-key: SK}", "copies: [offsite]");
        Assert.That(DaemonConfigReader.Parse(yaml, "a").Jobs["vm1"].Copies, Is.EqualTo(DaemonConfigReader.Parse(yaml, "b").Jobs["vm1"].Copies));
        var other = yaml.Replace("bucket: backy", "bucket: other", StringComparison.Ordinal);
        Assert.That(DaemonConfigReader.Parse(other, "c").Jobs["vm1"].Copies, Is.Not.EqualTo(DaemonConfigReader.Parse(yaml, "b").Jobs["vm1"].Copies));
    }
}

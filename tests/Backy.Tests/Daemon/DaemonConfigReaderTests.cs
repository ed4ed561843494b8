using Backy.Daemon.Config;

namespace Backy.Tests.Daemon;

public class DaemonConfigReaderTests
{
    private const string Good = """
        global:
          base-dir: /srv/backy
          worker-limit: 3
          backup-completed-callback: /usr/local/bin/notify
        api:
          addrs: "127.0.0.1"
          port: 7000
          tokens:
            secret1: server-b
          cli-default:
            token: secret0
        peers:
          server-b:
            url: https://b.example.com:6023
            token: secret2
        schedules:
          default:
            daily: {interval: 1d, keep: 9}
            weekly: {interval: 7d, keep: 5}
        jobs:
          test01:
            schedule: default
            source: {type: file, filename: /srv/img/test01}
          test02:
            schedule: default
            source: {type: ceph-rbd, pool: rbd, image: test02, full-always: "true"}
        """;

    [Test]
    public void A_complete_configuration_is_read_into_typed_records()
    {
        var config = DaemonConfigReader.Parse(Good, "backy.conf");

        Assert.That(config.Global, Is.EqualTo(new GlobalConfig("/srv/backy", 3, "/usr/local/bin/notify")));
        Assert.That(config.Api.Addrs, Is.EqualTo(new[] { "127.0.0.1" }));
        Assert.That(config.Api.Port, Is.EqualTo(7000));
        Assert.That(config.Api.Tokens["secret1"], Is.EqualTo("server-b"));
        Assert.That(config.Api.CliDefaultToken, Is.EqualTo("secret0"));
        Assert.That(config.Peers["server-b"].Url, Is.EqualTo(new Uri("https://b.example.com:6023")));
        Assert.That(config.Schedules["default"].Intervals.Select(i => i.Tag), Is.EqualTo(new[] { "daily", "weekly" }));
        Assert.That(config.Jobs.Keys, Is.EquivalentTo(new[] { "test01", "test02" }));
        Assert.That(config.Jobs["test02"].Source, Is.EqualTo(new SourceDefinition("ceph-rbd",
            new Dictionary<string, string> { ["pool"] = "rbd", ["image"] = "test02", ["full-always"] = "true" })));
    }

    [Test]
    public void Defaults_apply_where_keys_are_omitted()
    {
        var config = DaemonConfigReader.Parse("""
            global: {base-dir: /srv/backy}
            schedules: {s: {daily: {interval: 1d, keep: 1}}}
            jobs: {}
            """, "c");

        Assert.That(config.Global.WorkerLimit, Is.EqualTo(1));
        Assert.That(config.Api.Addrs, Is.EqualTo(new[] { "127.0.0.1", "::1" }));
        Assert.That(config.Api.Port, Is.EqualTo(6023));
        Assert.That(config.Peers, Is.Empty);
    }

    [Test]
    public void Three_mistakes_are_reported_together_with_key_paths_and_lines()
    {
        var yaml = """
            global:
              base-dir: /srv/backy
              worker-limmit: 2
            schedules:
              default:
                daily: {interval: 1d, keep: 9}
            jobs:
              test01:
                schedule: dialy
                source: {type: file, filename: /srv/img}
              test02:
                schedule: default
                source: {type: nfs, path: /x}
            """;

        var e = Assert.Throws<ConfigValidationException>(() => DaemonConfigReader.Parse(yaml, "backy.conf"))!;

        Assert.That(e.Errors.Select(x => (x.KeyPath, x.Line)), Is.EqualTo(new (string, int?)[]
        {
            ("global.worker-limmit", 3),
            ("jobs.test01.schedule", 9),
            ("jobs.test02.source.type", 13),
        }));
        Assert.That(e.Message, Does.Contain("backy.conf:9: jobs.test01.schedule: unknown schedule 'dialy'"));
        Assert.That(e.Message, Does.Contain("unknown source type 'nfs'"));
    }

    [Test]
    public void Schedule_errors_from_the_schedule_library_get_their_line()
    {
        var yaml = """
            global: {base-dir: /srv/backy}
            schedules:
              default:
                daily:
                  interval: 1x
                  keep: 9
            """;

        var e = Assert.Throws<ConfigValidationException>(() => DaemonConfigReader.Parse(yaml, "c"))!;

        Assert.That(e.Errors.Single().KeyPath, Is.EqualTo("schedules.default.daily.interval"));
        Assert.That(e.Errors.Single().Line, Is.EqualTo(5));
    }

    [TestCase("global: {base-dir: relative/dir}\nschedules: {}", "global.base-dir")]
    [TestCase("schedules: {}", "global")]
    [TestCase("global: {base-dir: /x}\nschedules: {}\nextra: 1", "extra")]
    [TestCase("global: {base-dir: /x}\nschedules: {}\napi: {port: 70000}", "api.port")]
    [TestCase("global: {base-dir: /x}\nschedules: {}\npeers: {b: {url: 'ftp://x', token: t}}", "peers.b.url")]
    [TestCase("global: {base-dir: /x}\nschedules: {s: {d: {interval: 1d, keep: 1}}}\njobs: {j: {schedule: s, source: {type: file}}}", "jobs.j.source.filename")]
    [TestCase("global: {base-dir: /x}\nschedules: {s: {d: {interval: 1d, keep: 1}}}\njobs: {j: {schedule: s, source: {type: file, filename: /f, cow: maybe}}}", "jobs.j.source.cow")]
    [TestCase("global: {base-dir: /x}\nschedules: {s: {d: {interval: 1d, keep: 1}}}\njobs: {../j: {schedule: s, source: {type: file, filename: /f}}}", "jobs.../j")]
    [TestCase("global: {base-dir: /x}\nglobal: {base-dir: /y}", "(syntax)")]
    [TestCase("global: [", "(syntax)")]
    public void A_single_mistake_names_its_key_path(string yaml, string keyPath)
    {
        var e = Assert.Throws<ConfigValidationException>(() => DaemonConfigReader.Parse(yaml, "c"))!;

        Assert.That(e.Errors.Select(x => x.KeyPath), Does.Contain(keyPath), e.Message);
    }

    [Test]
    public void A_missing_file_is_a_one_line_error_naming_the_file()
    {
        var e = Assert.Throws<Backy.Storage.ConfigException>(() => DaemonConfigReader.Load("/nonexistent/backy.conf"))!;

        Assert.That(e.Message, Does.StartWith("cannot read configuration '/nonexistent/backy.conf'"));
    }
}

public class ExampleConfigTests
{
    [Test]
    public void The_shipped_example_configuration_is_valid()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "backy.sln")))
            dir = dir.Parent;
        Assert.That(dir, Is.Not.Null, "repository root not found");

        var config = DaemonConfigReader.Load(Path.Combine(dir!.FullName, "conf", "backy.conf.example"));

        Assert.That(config.Jobs.Keys, Is.EquivalentTo(new[] { "test01", "test02", "test03" }));
        Assert.That(config.Schedules.Keys, Is.EquivalentTo(new[] { "default", "frequent" }));
        Assert.That(config.Jobs.Values.Select(j => j.Source.Type), Is.EquivalentTo(new[] { "file", "ceph-rbd", "flyingcircus" }));
    }
}

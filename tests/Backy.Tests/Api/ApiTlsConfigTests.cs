using Backy.Daemon.Config;

namespace Backy.Tests.Api;

public class ApiTlsConfigTests
{
    private static string Config(string apiLines) => $"""
        global:
          base-dir: /srv/backy
        api:
        {apiLines}
        schedules:
          default:
            daily: {"{"}interval: 1d, keep: 9{"}"}
        jobs: {"{}"}
        """;

    [Test]
    public void Tls_certificate_and_key_are_read_as_paths()
    {
        var dir = Directory.CreateTempSubdirectory("backy-tls-").FullName;
        try
        {
            var (cert, key) = TestCertificate.Create(dir);

            var config = DaemonConfigReader.Parse(Config($"  tls-cert: {cert}\n  tls-key: {key}"), "backy.conf");

            Assert.That(config.Api.TlsCert, Is.EqualTo(cert));
            Assert.That(config.Api.TlsKey, Is.EqualTo(key));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Without_tls_keys_the_api_is_plain()
    {
        var config = DaemonConfigReader.Parse(Config("  port: 7000"), "backy.conf");

        Assert.That(config.Api.TlsCert, Is.Null);
        Assert.That(config.Api.TlsKey, Is.Null);
    }

    [Test]
    public void A_certificate_without_key_and_a_missing_file_are_both_reported()
    {
        var e = Assert.Throws<ConfigValidationException>(() =>
            DaemonConfigReader.Parse(Config("  tls-cert: /nonexistent/api.crt"), "backy.conf"))!;

        Assert.That(e.Message, Does.Contain("api.tls-key: missing: TLS needs both tls-cert and tls-key"));

        var both = Assert.Throws<ConfigValidationException>(() =>
            DaemonConfigReader.Parse(Config("  tls-cert: /nonexistent/api.crt\n  tls-key: /nonexistent/api.key"), "backy.conf"))!;

        Assert.That(both.Errors.Select(x => x.KeyPath), Is.EquivalentTo(new[] { "api.tls-cert", "api.tls-key" }));
        Assert.That(both.Message, Does.Contain("no such file '/nonexistent/api.crt'"));
    }
}

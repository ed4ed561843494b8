using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Nbd;

/// <summary>With --tls-cert/--tls-key the server requires NBD_OPT_STARTTLS (libnbd's nbds://).</summary>
[Parallelizable(ParallelScope.None)]
public class NbdTlsTests
{
    [Test, CancelAfter(120_000)]
    public async Task A_TLS_server_serves_nbds_clients_and_refuses_plain_ones(CancellationToken ct)
    {
        Tool.Require("nbdinfo", "nbdcopy", "openssl");
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 2L * Blocks.Size + 4096);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        // A CA and a server certificate for 127.0.0.1 in the layout libnbd reads (tls-certificates=DIR/ca-cert.pem).
        var pki = Directory.CreateDirectory(t.PathIn("pki")).FullName;
        string P(string name) => Path.Combine(pki, name);
        await Tool.OkAsync("openssl", ct, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=backy test CA",
            "-keyout", P("ca-key.pem"), "-out", P("ca-cert.pem"), "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
        await Tool.OkAsync("openssl", ct, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", P("server-key.pem"), "-out", P("server.csr"));
        await File.WriteAllTextAsync(P("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n", ct);
        await Tool.OkAsync("openssl", ct, "x509", "-req", "-in", P("server.csr"), "-CA", P("ca-cert.pem"), "-CAkey", P("ca-key.pem"),
            "-CAcreateserial", "-days", "2", "-extfile", P("ext.cnf"), "-out", P("server-cert.pem"));
        await using var server = await NbdServerProcess.StartAsync(t.JobPath, ct, "--tls-cert", P("server-cert.pem"), "--tls-key", P("server-key.pem"));
        Assert.That(server.Address, Does.StartWith("nbds://"));

        var tls = await Tool.RunAsync("nbdinfo", ct, $"{server.Address}/?tls-certificates={pki}");
        await Tool.OkAsync("nbdcopy", ct, $"{server.Address}/?tls-certificates={pki}", t.PathIn("copy"));
        var plain = await Tool.RunAsync("nbdinfo", ct, server.Address.Replace("nbds://", "nbd://") + "/");

        Assert.That(tls.ExitCode, Is.Zero, tls.ToString());
        Assert.That(tls.Out, Does.Contain("with TLS"));
        Assert.That(await File.ReadAllBytesAsync(t.PathIn("copy"), ct), Is.EqualTo(await File.ReadAllBytesAsync(t.ImagePath, ct)));
        Assert.That(plain.ExitCode, Is.Not.Zero, "a client without TLS gets NBD_REP_ERR_TLS_REQD\n" + plain);
        Assert.That(server.Exited.IsCompleted, Is.False);
    }
}

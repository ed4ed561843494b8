using Backy.Protocol.V1;
using Grpc.Core;

namespace Backy.Tests.Api;

[CancelAfter(30_000)]
public class ApiServerTests
{
    [Test]
    public async Task Serves_over_tls_with_the_configured_certificate(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync(tls: true);

        var reply = await api.JobsClient().ListJobsAsync(new ListJobsRequest(), ApiHarness.Auth().WithCancellationToken(ct));

        Assert.That(api.Url.Scheme, Is.EqualTo("https"));
        Assert.That(reply.Jobs.Select(j => j.Name), Is.EqualTo(new[] { "alpha", "beta" }));
        Assert.That(api.Server.Urls, Has.All.StartWith("https://"));
    }

    [Test]
    public async Task Tls_server_refuses_plain_http2(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync(tls: true);
        var plain = new Jobs.JobsClient(api.Channel(new Uri($"http://127.0.0.1:{api.Port}")));

        var e = await ApiHarness.Refusal(async () =>
            await plain.ListJobsAsync(new ListJobsRequest(), ApiHarness.Auth().WithCancellationToken(ct)));

        Assert.That(e.StatusCode, Is.Not.EqualTo(StatusCode.OK));
    }

    [Test]
    public async Task Reload_with_a_new_port_moves_the_api_there(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var oldUrl = api.Url;
        api.WriteConfig(port: ApiHarness.FreePort());

        await new Jobs.JobsClient(api.Channel(oldUrl)).ReloadAsync(new ReloadRequest(), ApiHarness.Auth().WithCancellationToken(ct));
        await api.Server.Rebinding.WaitAsync(ct);

        var reply = await api.JobsClient().ListJobsAsync(new ListJobsRequest(), ApiHarness.Auth().WithCancellationToken(ct));
        Assert.That(reply.Jobs, Has.Count.EqualTo(2));
        Assert.That(api.Server.Urls, Is.EqualTo(new[] { api.Url.ToString().TrimEnd('/') }));
        var e = await ApiHarness.Refusal(async () =>
            await new Jobs.JobsClient(api.Channel(oldUrl)).ListJobsAsync(new ListJobsRequest(), ApiHarness.Auth().WithCancellationToken(ct)));
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.Unavailable));
    }

    [Test]
    public async Task Reload_onto_a_busy_port_keeps_the_api_on_the_old_one(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var oldUrl = api.Url;
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        squatter.Start();
        api.WriteConfig(port: ((System.Net.IPEndPoint)squatter.LocalEndpoint).Port);

        await new Jobs.JobsClient(api.Channel(oldUrl)).ReloadAsync(new ReloadRequest(), ApiHarness.Auth().WithCancellationToken(ct));
        await api.Server.Rebinding.WaitAsync(ct);

        var reply = await new Jobs.JobsClient(api.Channel(oldUrl)).ListJobsAsync(new ListJobsRequest(), ApiHarness.Auth().WithCancellationToken(ct));
        Assert.That(reply.Jobs, Has.Count.EqualTo(2));
        Assert.That(api.Log.Lines, Has.Some.Contains("kept the previous ones"));
    }

    [Test]
    public async Task Busy_port_at_start_is_one_error_naming_the_address_and_the_reason()
    {
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((System.Net.IPEndPoint)squatter.LocalEndpoint).Port;

        var e = await Assert.ThrowsAsync<Backy.Storage.ConfigException>(async () => await (await ApiHarness.StartAsync(port: port)).DisposeAsync());

        Assert.That(e!.Message, Does.StartWith($"api: cannot listen on 127.0.0.1 port {port} - ").And.Contain("address already in use").And.Not.Contain("\n"));
    }
}

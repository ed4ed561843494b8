using Backy.Protocol.V1;
using Grpc.Core;

namespace Backy.Tests.Api;

[CancelAfter(30_000)]
public class ApiAuthenticationTests
{
    [Test]
    public async Task Call_without_a_token_is_unauthenticated_and_logged_without_secrets(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();

        var e = await ApiHarness.Refusal(async () =>
            await api.JobsClient().ListJobsAsync(new ListJobsRequest(), ApiHarness.Auth(token: null).WithCancellationToken(ct)));

        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
        Assert.That(api.Log.Lines, Has.Some.Contains("refused: no bearer token"));
    }

    [Test]
    public async Task Call_with_an_unknown_token_is_unauthenticated_and_the_token_is_not_logged(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();

        var e = await ApiHarness.Refusal(async () =>
            await api.JobsClient().ListJobsAsync(new ListJobsRequest(), ApiHarness.Auth("guessed-token-123").WithCancellationToken(ct)));

        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
        Assert.That(api.Log.Lines, Has.Some.Contains("refused: unknown token"));
        Assert.That(api.Log.Lines, Has.None.Contains("guessed-token-123"));
    }

    [Test]
    public async Task Accepted_call_is_logged_with_client_name_and_task_id(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();

        await api.JobsClient().ListJobsAsync(new ListJobsRequest(), ApiHarness.Auth(taskId: "T-4711").WithCancellationToken(ct));

        Assert.That(api.Log.Lines, Has.Some.Contains("from monitoring (task T-4711)").And.Contains("TaskId=T-4711"));
        Assert.That(api.Log.Lines, Has.None.Contains(ApiHarness.Token));
    }

    [Test]
    public async Task Tokens_changed_in_the_config_take_effect_on_reload(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        api.WriteConfig(extraToken: "added-later");

        await api.JobsClient().ReloadAsync(new ReloadRequest(), ApiHarness.Auth().WithCancellationToken(ct));
        var reply = await api.JobsClient().ListJobsAsync(new ListJobsRequest(), ApiHarness.Auth("added-later").WithCancellationToken(ct));

        Assert.That(reply.Jobs, Has.Count.EqualTo(2));
    }

    [Test]
    public void Task_ids_are_cut_to_printable_characters() =>
        Assert.That(Backy.Daemon.Api.BearerTokenInterceptor.SanitizedTaskId("ab\ncd; rm -rf"), Is.EqualTo("abcdrm-rf"));
}

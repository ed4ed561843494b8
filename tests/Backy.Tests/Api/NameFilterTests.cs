using Backy.Daemon.Api;
using Grpc.Core;

namespace Backy.Tests.Api;

public class NameFilterTests
{
    /// <summary>Every reading of the clock is 300 ms after the previous one: each match "takes" 300 ms.</summary>
    private sealed class SlowMatchClock : TimeProvider
    {
        private long _now;

        public override long GetTimestamp() => _now += TimestampFrequency * 3 / 10;
    }

    [Test]
    public void A_filter_that_stays_under_the_per_name_timeout_is_stopped_by_the_budget_of_the_call()
    {
        var filter = NameFilter.Parse("^vm", new SlowMatchClock());

        var e = Assert.Throws<RpcException>(() => Enumerable.Range(0, 10).Select(i => $"vm{i}").Where(filter.IsMatch).ToList());

        Assert.That(e!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(e.Status.Detail, Is.EqualTo("filter '^vm' took longer than 1000 ms over the names matched so far"));
    }

    [Test]
    public void A_filter_within_the_budget_matches_normally()
    {
        var filter = NameFilter.Parse("^vm", new SlowMatchClock());

        Assert.That(new[] { "vm1", "db1", "vm2" }.Where(filter.IsMatch), Is.EqualTo(new[] { "vm1", "vm2" }));
    }
}

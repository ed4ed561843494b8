using Backy.Storage.Progress;
using Backy.Worker.Progress;

namespace Backy.Tests.Progress;

/// <summary>Rate and time left from a fake clock (<see cref="ProgressMeter"/>), the line the worker sends the daemon,
/// and the words the client shows.</summary>
public class ProgressEstimateTests
{
    private const long MiB = 1 << 20;

    private static OperationProgress Backup(long done, long total = 100) => new("backup", done, total, done * 4 * MiB, done * MiB);

    [Test]
    public void Ten_blocks_in_ten_seconds_leave_ninety_seconds_for_ninety_blocks()
    {
        var clock = new SteppedClock();
        var meter = new ProgressMeter(clock);

        clock.Advance(TimeSpan.FromSeconds(10));
        var estimate = meter.Update(Backup(10));

        Assert.That(estimate.Remaining, Is.EqualTo(TimeSpan.FromSeconds(90)));
        Assert.That(estimate.BytesPerSecond, Is.EqualTo(4.0 * MiB));
        Assert.That(estimate.Progress.Percent, Is.EqualTo(10));
    }

    [Test]
    public void Within_the_first_second_there_is_no_rate_and_no_time_left()
    {
        var clock = new SteppedClock();
        var meter = new ProgressMeter(clock);

        clock.Advance(TimeSpan.FromMilliseconds(400));
        var estimate = meter.Update(Backup(3));

        Assert.That(estimate.Remaining, Is.Null);
        Assert.That(estimate.BytesPerSecond, Is.Zero);
    }

    [Test]
    public void The_rate_follows_the_last_30_seconds_not_the_average_since_the_start()
    {
        var clock = new SteppedClock();
        var meter = new ProgressMeter(clock);
        long done = 0;
        // 60 s at 1 block/s, then 40 s at 3 blocks/s (the known chunks are behind it, say).
        for (var s = 0; s < 60; s++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            meter.Update(Backup(++done, 1000));
        }
        ProgressEstimate estimate = null!;
        for (var s = 0; s < 40; s++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            done += 3;
            estimate = meter.Update(Backup(done, 1000));
        }

        Assert.That(done, Is.EqualTo(180));
        // Since the start the average is 1.8 blocks/s (456 s left); over the window it is 3 blocks/s.
        Assert.That(estimate.Remaining!.Value.TotalSeconds, Is.EqualTo((1000 - 180) / 3.0).Within(0.001));
        Assert.That(estimate.BytesPerSecond, Is.EqualTo(12.0 * MiB).Within(1));
    }

    [Test]
    public void A_stalled_operation_has_no_time_left_rather_than_a_wrong_one()
    {
        var clock = new SteppedClock();
        var meter = new ProgressMeter(clock);
        clock.Advance(TimeSpan.FromSeconds(5));
        meter.Update(Backup(5));

        clock.Advance(TimeSpan.FromSeconds(40)); // nothing done for longer than the window
        var estimate = meter.Update(Backup(5));

        Assert.That(estimate.Remaining, Is.Null);
        Assert.That(estimate.BytesPerSecond, Is.Zero);
    }

    [Test]
    public void Nothing_left_is_zero_time_left_and_100_percent()
    {
        var clock = new SteppedClock();
        var meter = new ProgressMeter(clock);
        clock.Advance(TimeSpan.FromSeconds(3));

        var estimate = meter.Update(Backup(100));

        Assert.That(estimate.Remaining, Is.EqualTo(TimeSpan.Zero));
        Assert.That(estimate.Progress.Percent, Is.EqualTo(100));
        Assert.That(new OperationProgress("verify", 0, 0, 0, 0).Percent, Is.EqualTo(100), "nothing to do is done");
    }

    [Test]
    public void A_progress_line_carries_the_estimate_to_the_daemon()
    {
        var estimate = new ProgressEstimate(new OperationProgress("backup", 3, 12, 12 * MiB, 4 * MiB), 4.0 * MiB, TimeSpan.FromSeconds(8.2));

        var line = ProgressLine.Format(estimate);
        var parsed = ProgressLine.TryParse(line);

        Assert.That(line, Is.EqualTo("backy-progress op=backup done=3 total=12 read=12582912 written=4194304 rate=4194304 eta=9"));
        Assert.That(parsed!.Progress, Is.EqualTo(estimate.Progress));
        Assert.That(parsed.BytesPerSecond, Is.EqualTo(4.0 * MiB));
        Assert.That(parsed.Remaining, Is.EqualTo(TimeSpan.FromSeconds(9)), "rounded up to whole seconds");
        Assert.That(ProgressLine.TryParse(ProgressLine.Format(estimate with { Remaining = null }))!.Remaining, Is.Null);
        Assert.That(ProgressLine.TryParse("2026-12-01T14:22:12.270Z info  [0258b45e] [job] backup: started"), Is.Null, "a log line");
        Assert.That(ProgressLine.TryParse("backy-progress op=backup done=x"), Is.Null, "no numbers: not a progress line");
        Assert.That(ProgressLine.TryParse("backy-progress op=backup done=1 total=2 future=7")!.Progress.BlocksTotal, Is.EqualTo(2), "unknown keys are ignored");
    }

    [Test]
    public void The_worker_writes_its_first_report_at_once_and_then_one_line_a_second()
    {
        var clock = new SteppedClock();
        var stderr = new StringWriter();
        var writer = new ProgressLineWriter(stderr, clock);

        for (var i = 1; i <= 10; i++)
        {
            writer.Report(Backup(i));
            clock.Advance(TimeSpan.FromMilliseconds(150));
        }

        var lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Reports at 0, 150 ... 1350 ms: the first one, then the one at 1050 ms.
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(ProgressLine.TryParse(lines[0])!.Progress.BlocksDone, Is.EqualTo(1));
        Assert.That(ProgressLine.TryParse(lines[1])!.Progress.BlocksDone, Is.EqualTo(8));
    }

    [Test]
    public void The_client_says_percent_and_time_left_in_words()
    {
        Assert.That(ProgressText.Short(42.7, TimeSpan.FromSeconds(170)), Is.EqualTo("42 %, 3 min left"));
        Assert.That(ProgressText.Short(42.7, null), Is.EqualTo("42 %"));
        Assert.That(ProgressText.Short(100, TimeSpan.Zero), Is.EqualTo("100 %"));
        Assert.That(ProgressText.Left(TimeSpan.FromSeconds(0.2)), Is.EqualTo("1 s"));
        Assert.That(ProgressText.Left(TimeSpan.FromSeconds(45)), Is.EqualTo("45 s"));
        Assert.That(ProgressText.Left(TimeSpan.FromMinutes(125)), Is.EqualTo("2 h 5 min"));
        Assert.That(ProgressText.Left(TimeSpan.FromDays(3)), Is.EqualTo("3 days"));
    }
}

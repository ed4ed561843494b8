namespace Backy.Tests.Progress;

/// <summary>A clock whose wall time and timestamps both stand still until a test moves them (the schedules'
/// FakeClock moves only the wall time; rate and time left are measured with timestamps).</summary>
public sealed class SteppedClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _now.UtcTicks;

    public void Advance(TimeSpan by) => _now += by;
}

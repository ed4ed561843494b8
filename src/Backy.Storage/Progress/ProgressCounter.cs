namespace Backy.Storage.Progress;

/// <summary>
/// The engines' side of progress: thread-safe counters that report every change to the sink (an engine's
/// workers call <see cref="Add"/> once per block, a few hundred times a second at most; the sink throttles).
/// Without a sink it costs nothing.
/// </summary>
internal sealed class ProgressCounter
{
    private readonly string _operation;
    private readonly IProgress<OperationProgress>? _sink;
    private long _total, _done, _read, _written;

    public ProgressCounter(string operation, IProgress<OperationProgress>? sink, long total = 0)
    {
        _operation = operation;
        _sink = sink;
        _total = total;
    }

    public bool Enabled => _sink is not null;

    public long Total
    {
        get => Interlocked.Read(ref _total);
        set => Interlocked.Exchange(ref _total, value);
    }

    /// <summary>Where the written bytes come from when another object counts them (a chunk write session).</summary>
    public Func<long>? WrittenSource { get; set; }

    /// <summary>Adds work done.</summary>
    public void Add(long blocks, long read, long written = 0)
    {
        if (_sink is null) return;
        var done = Interlocked.Add(ref _done, blocks);
        Report(done, Interlocked.Add(ref _read, read), Interlocked.Add(ref _written, written));
    }

    /// <summary>Moves the done count up to a position (a diff, which arrives in image order, reports where it is).</summary>
    public void Advance(long position, long read)
    {
        if (_sink is null) return;
        var done = Interlocked.Read(ref _done);
        while (position > done)
        {
            var seen = Interlocked.CompareExchange(ref _done, position, done);
            if (seen == done) { done = position; break; }
            done = seen;
        }
        Report(done, Interlocked.Add(ref _read, read), Interlocked.Read(ref _written));
    }

    private void Report(long done, long read, long written) =>
        _sink!.Report(new OperationProgress(_operation, done, Total, read, WrittenSource?.Invoke() ?? written));
}

using Backy.Storage.IO;

namespace Backy.Storage.Restore;

/// <summary>
/// <c>restore -</c>: the image in order on file descriptor 1, zeros included, through write(2) so that a reader that
/// goes away is an error (exit 1, "the reader closed the pipe after N bytes"), never a silent success.
/// </summary>
internal sealed class StdoutTarget : IImageTarget
{
    private const int StdoutFd = 1;
    private DescriptorWriter? _writer;

    public string Name => "stdout";

    public void Open(long imageSize, string jobDirectory)
    {
        DurableFile.TryGrowPipe(StdoutFd);
        _writer = new DescriptorWriter(StdoutFd, Name);
    }

    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        _writer!.Write(data.Span);
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteZerosAsync(long offset, ReadOnlyMemory<byte> zeros, CancellationToken cancellationToken) =>
        WriteAsync(offset, zeros, cancellationToken);

    // Nothing buffered: every byte went to the descriptor by write(2). Not synced: a pipe has no disk.
    public Task CompleteAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public string Abandon() => $"{_writer?.Written ?? 0} bytes were written to stdout";

    public void Dispose() { }
}

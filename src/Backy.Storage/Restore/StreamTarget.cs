namespace Backy.Storage.Restore;

/// <summary>A .NET stream (tests, in-process callers): the image in order, zeros included.</summary>
internal sealed class StreamTarget(Stream stream, string name = "stream") : IImageTarget
{
    public string Name => name;
    public void Open(long imageSize, string jobDirectory) { }
    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => stream.WriteAsync(data, cancellationToken);
    public ValueTask WriteZerosAsync(long offset, ReadOnlyMemory<byte> zeros, CancellationToken cancellationToken) => stream.WriteAsync(zeros, cancellationToken);
    public Task CompleteAsync(CancellationToken cancellationToken) => stream.FlushAsync(cancellationToken);
    public string Abandon() => "the stream holds a partial image";
    public void Dispose() { }
}

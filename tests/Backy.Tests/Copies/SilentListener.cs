using System.Net;
using System.Net.Sockets;

namespace Backy.Tests.Copies;

/// <summary>A TCP listener that accepts every connection and never reads or writes a byte.</summary>
public sealed class SilentListener : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _held = [];
    private int _accepted;

    public SilentListener()
    {
        _listener.Start();
        _ = AcceptAsync();
    }

    public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
    public int Accepted => Volatile.Read(ref _accepted);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var s = await _listener.AcceptSocketAsync();
                lock (_held) _held.Add(s);
                Interlocked.Increment(ref _accepted);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { /* stopped */ }
    }

    public void Dispose()
    {
        _listener.Stop();
        lock (_held) foreach (var s in _held) s.Dispose();
    }
}

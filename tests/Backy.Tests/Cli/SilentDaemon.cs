using System.Net;
using System.Net.Sockets;

namespace Backy.Tests.Cli;

/// <summary>A real loopback socket that accepts every connection, reads what arrives and never
/// answers: a hung daemon (or something that is not a backy daemon at all) as a client meets it.</summary>
internal sealed class SilentDaemon : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _accepted = [];
    private readonly Task _loop;

    public SilentDaemon()
    {
        _listener.Start();
        _loop = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Url => $"http://127.0.0.1:{Port}";
    public int Accepted { get { lock (_accepted) return _accepted.Count; } }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                lock (_accepted) _accepted.Add(client);
                _ = DrainAsync(client);
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task DrainAsync(TcpClient client)
    {
        var buffer = new byte[4096];
        try
        {
            while (await client.GetStream().ReadAsync(buffer, _stop.Token) > 0) { }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        lock (_accepted)
            foreach (var c in _accepted) c.Dispose();
        _stop.Dispose();
    }
}

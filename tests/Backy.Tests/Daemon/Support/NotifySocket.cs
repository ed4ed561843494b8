using System.Net.Sockets;
using System.Text;

namespace Backy.Tests.Daemon.Support;

/// <summary>
/// Plays systemd's side of sd_notify: a Unix datagram socket the daemon finds through
/// NOTIFY_SOCKET. Kept under /tmp with a short name: socket paths are limited to 108 bytes.
/// </summary>
public sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket;
    private readonly List<string> _messages = [];
    private readonly Task _receiving;

    public string Path { get; } = $"/tmp/bn-{Guid.NewGuid():N}"[..20] + ".sock";

    public NotifySocket()
    {
        File.Delete(Path);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _socket.Bind(new UnixDomainSocketEndPoint(Path));
        _receiving = Task.Run(Receive);
    }

    public IReadOnlyList<string> Messages
    {
        get { lock (_messages) return [.. _messages]; }
    }

    private void Receive()
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var n = _socket.Receive(buffer);
                lock (_messages)
                    _messages.AddRange(Encoding.UTF8.GetString(buffer, 0, n).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    public async Task WaitForAsync(string message, CancellationToken cancellationToken)
    {
        while (!Messages.Contains(message))
            await Task.Delay(50, cancellationToken);
    }

    public void Dispose()
    {
        _socket.Dispose();
        File.Delete(Path);
    }
}

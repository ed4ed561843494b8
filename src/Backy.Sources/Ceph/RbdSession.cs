namespace Backy.Sources.Ceph;

/// <summary>
/// One backup's librbd state: the connection (one per backup: connecting costs a monitor round trip and a
/// map download, as every rbd process paid it before) and the image's head handle, which takes, lists and
/// removes the snapshots.
/// </summary>
internal sealed class RbdSession : IDisposable
{
    private RbdSession(RbdConnection connection, RbdImage head)
    {
        Connection = connection;
        Head = head;
    }

    public RbdConnection Connection { get; }
    public RbdImage Head { get; }

    public static RbdSession Open(CephClientOptions options, RbdImageSpec image)
    {
        var connection = RbdConnection.Open(options, image.Pool);
        try
        {
            return new RbdSession(connection, connection.OpenImage(image.Image));
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Head.Dispose();
        Connection.Dispose();
    }
}

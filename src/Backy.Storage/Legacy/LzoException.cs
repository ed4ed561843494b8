namespace Backy.Storage.Legacy;

/// <summary>LZO data that cannot be decompressed; the message says where and why.</summary>
public sealed class LzoException : BackyException
{
    public LzoException(string message) : base(message) { }
}

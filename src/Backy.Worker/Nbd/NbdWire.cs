using System.Buffers.Binary;
using System.Text;

namespace Backy.Worker.Nbd;

/// <summary>Big-endian framing of option replies and transmission replies, built into small byte arrays.</summary>
internal static class NbdWire
{
    public static byte[] OptionReply(uint option, uint type, ReadOnlySpan<byte> data)
    {
        var b = new byte[20 + data.Length];
        BinaryPrimitives.WriteUInt64BigEndian(b, NbdProtocol.OptionReplyMagic);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), option);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(12), type);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(16), (uint)data.Length);
        data.CopyTo(b.AsSpan(20));
        return b;
    }

    public static byte[] OptionError(uint option, uint type, string message) =>
        OptionReply(option, type, Encoding.UTF8.GetBytes(Truncate(message, 4096)));

    public static void SimpleReplyHeader(Span<byte> b, uint error, ulong handle)
    {
        BinaryPrimitives.WriteUInt32BigEndian(b, NbdProtocol.SimpleReplyMagic);
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], error);
        BinaryPrimitives.WriteUInt64BigEndian(b[8..], handle);
    }

    public const int SimpleHeaderSize = 16;
    public const int StructuredHeaderSize = 20;

    public static void StructuredHeader(Span<byte> b, ushort flags, ushort type, ulong handle, uint length)
    {
        BinaryPrimitives.WriteUInt32BigEndian(b, NbdProtocol.StructuredReplyMagic);
        BinaryPrimitives.WriteUInt16BigEndian(b[4..], flags);
        BinaryPrimitives.WriteUInt16BigEndian(b[6..], type);
        BinaryPrimitives.WriteUInt64BigEndian(b[8..], handle);
        BinaryPrimitives.WriteUInt32BigEndian(b[16..], length);
    }

    /// <summary>An NBD_REPLY_TYPE_ERROR or _ERROR_OFFSET chunk with a message for people.</summary>
    public static byte[] StructuredError(ushort flags, ulong handle, uint error, string message, long? offset)
    {
        var text = Encoding.UTF8.GetBytes(Truncate(message, 1024));
        var length = 6 + text.Length + (offset is null ? 0 : 8);
        var b = new byte[StructuredHeaderSize + length];
        StructuredHeader(b, flags, offset is null ? NbdProtocol.ReplyError : NbdProtocol.ReplyErrorOffset, handle, (uint)length);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(20), error);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(24), (ushort)text.Length);
        text.CopyTo(b.AsSpan(26));
        if (offset is { } o) BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(26 + text.Length), (ulong)o);
        return b;
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}

using System.Buffers.Binary;
using System.Text;

namespace Backy.Tests.Ceph;

/// <summary>Writes "rbd diff v1" streams byte by byte, the way rbd export-diff does, for parser tests.</summary>
internal sealed class RbdDiffBuilder
{
    private readonly MemoryStream _bytes = new();

    public RbdDiffBuilder(bool header = true)
    {
        if (header) Raw("rbd diff v1\n"u8.ToArray());
    }

    public RbdDiffBuilder Raw(byte[] bytes)
    {
        _bytes.Write(bytes);
        return this;
    }

    public RbdDiffBuilder Name(char tag, string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        _bytes.WriteByte((byte)tag);
        U32((uint)bytes.Length);
        return Raw(bytes);
    }

    public RbdDiffBuilder Size(long size)
    {
        _bytes.WriteByte((byte)'s');
        return U64((ulong)size);
    }

    public RbdDiffBuilder Write(long offset, byte[] data)
    {
        _bytes.WriteByte((byte)'w');
        U64((ulong)offset);
        U64((ulong)data.Length);
        return Raw(data);
    }

    public RbdDiffBuilder Zero(long offset, long length)
    {
        _bytes.WriteByte((byte)'z');
        U64((ulong)offset);
        return U64((ulong)length);
    }

    public RbdDiffBuilder End()
    {
        _bytes.WriteByte((byte)'e');
        return this;
    }

    public RbdDiffBuilder U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _bytes.Write(b);
        return this;
    }

    public RbdDiffBuilder U64(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        _bytes.Write(b);
        return this;
    }

    public byte[] ToArray() => _bytes.ToArray();
}

/// <summary>A stream that hands out at most a few bytes per read, like a slow pipe.</summary>
internal sealed class TrickleStream(byte[] data, int maxPerRead) : Stream
{
    private int _position;
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => data.Length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = Math.Min(Math.Min(count, maxPerRead), data.Length - _position);
        Array.Copy(data, _position, buffer, offset, n);
        _position += n;
        return n;
    }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

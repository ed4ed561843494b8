using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Backy.Storage.IO;

/// <summary>
/// One 64-bit value in a user extended attribute of an open file (fgetxattr/fsetxattr). Best effort by
/// design: a file system without user xattrs, a full one, or a copy that dropped them reads as "not set".
/// </summary>
internal static class ExtendedAttributes
{
    public static unsafe bool TryGetUInt64(SafeFileHandle handle, string name, out ulong value)
    {
        ulong v = 0;
        var n = Posix.Fgetxattr((int)handle.DangerousGetHandle(), name, (byte*)&v, sizeof(ulong));
        value = BitConverter.IsLittleEndian ? v : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);
        return n == sizeof(ulong);
    }

    public static unsafe bool TrySetUInt64(SafeFileHandle handle, string name, ulong value)
    {
        var v = BitConverter.IsLittleEndian ? value : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value);
        return Posix.Fsetxattr((int)handle.DangerousGetHandle(), name, (byte*)&v, sizeof(ulong), 0) == 0;
    }
}

using System.Runtime.InteropServices;
using Backy.Storage.IO;

namespace Backy.Storage.Restore;

/// <summary>
/// write(2) in order on a descriptor that is a stream (a pipe, stdout, a character device): .NET's console stream
/// swallows EPIPE, so a reader that went away (<c>restore - | head -c 10</c>, a dropped <c>ssh</c>) looked like
/// success. Here it is an error naming how much was delivered.
/// </summary>
internal sealed class DescriptorWriter(int fd, string name)
{
    /// <summary>Bytes the reader accepted so far.</summary>
    public long Written { get; private set; }

    public unsafe void Write(ReadOnlySpan<byte> data)
    {
        fixed (byte* start = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var n = Posix.Write(fd, start + done, data.Length - done);
                if (n >= 0)
                {
                    done += (int)n;
                    Written += n;
                    continue;
                }
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Posix.EINTR) continue;
                // A non-blocking descriptor inherited from the caller: wait for the reader instead of failing.
                if (errno == Posix.EWOULDBLOCK) { Thread.Sleep(1); continue; }
                if (errno == Posix.EPIPE)
                    throw new BackyException($"cannot write restore target {name}: the reader closed the pipe after {Written} bytes");
                throw new BackyException($"cannot write restore target {name}: {Posix.ErrorText(errno)} after {Written} bytes");
            }
        }
    }
}

using System.Runtime.InteropServices;

namespace Backy.Daemon.Scheduling;

/// <summary>Crash-safe replace of a small file: temp file in the same directory, write, fsync,
/// rename, fsync the directory (so the rename itself survives a power cut).</summary>
internal static partial class DurableWrite
{
    public static void WriteAllText(string path, string content)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(content);
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        FsyncDirectory(dir);
    }

    private static void FsyncDirectory(string dir)
    {
        const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY (Linux)
        var fd = Open(dir, ReadOnlyDirectory);
        if (fd < 0)
            return; // best effort: the data itself is already on disk
        try { Fsync(fd); }
        finally { Close(fd); }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}

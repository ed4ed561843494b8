using Backy.Storage;

namespace Backy.Daemon.Hosting;

/// <summary>
/// One daemon per base directory: an exclusive lock on <c>&lt;base-dir&gt;.lock</c> (beside the
/// directory, so it never shows up as a job). .NET implements FileShare.None with flock(LOCK_EX) on
/// Unix, which the kernel releases when the process dies: no stale lock after a crash.
/// </summary>
public sealed class BaseDirLock : IDisposable
{
    private readonly FileStream _stream;

    private BaseDirLock(FileStream stream) => _stream = stream;

    public static string PathFor(string baseDir) => Path.TrimEndingDirectorySeparator(baseDir) + ".lock";

    /// <exception cref="BackyException">Another daemon holds the lock, or the file cannot be created.</exception>
    public static BaseDirLock Acquire(string baseDir)
    {
        var path = PathFor(baseDir);
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            // The pid helps an operator find the holder; the lock itself is the flock.
            stream.SetLength(0);
            var pid = System.Text.Encoding.ASCII.GetBytes($"{Environment.ProcessId}\n");
            stream.Write(pid);
            stream.Flush();
            return new BaseDirLock(stream);
        }
        catch (IOException e) when (File.Exists(path))
        {
            throw new BackyException($"another backy daemon is already running for base directory '{baseDir}' (lock '{path}' is held; the holder's pid is in it)", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackyException($"cannot create daemon lock '{path}' - {e.Message}", e);
        }
    }

    public void Dispose() => _stream.Dispose();
}

using System.Runtime.InteropServices;

namespace Backy.Tests.Daemon.Support;

internal static class Posix
{
    public const int SigHup = 1;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    // DllImport, not LibraryImport: the test project does not allow unsafe code.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public static void Signal(int pid, int signal) => Kill(pid, signal);

    /// <summary>Signal 0 probes existence. A zombie still "exists" but is not running: check /proc.</summary>
    public static bool IsAlive(int pid)
    {
        if (Kill(pid, 0) != 0)
            return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}

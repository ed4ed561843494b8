using System.Runtime.InteropServices;

namespace Backy.Daemon.Workers;

/// <summary>libc <c>kill</c>: CliWrap's graceful cancellation sends SIGINT, but a worker (and
/// systemd convention) expects SIGTERM to mean "stop cleanly".</summary>
internal static partial class Signals
{
    public const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>True when the signal was delivered; false when the process is already gone.</summary>
    public static bool Terminate(int pid) => pid > 0 && Kill(pid, SigTerm) == 0;
}

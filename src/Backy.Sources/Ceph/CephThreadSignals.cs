using System.Runtime.InteropServices;

namespace Backy.Sources.Ceph;

/// <summary>
/// Runs managed code from a Ceph thread with no signal blocked. Ceph's threads block every signal, and a thread
/// inherits its creator's signal mask: when a completion on a librbd thread wakes the thread pool, the pool may
/// create its new worker right there, and that worker (and every process it starts later: .NET's Process.Start
/// hands the starting thread's mask to the child) would block every signal too. A child started that way never
/// sees SIGTERM, SIGINT or SIGHUP: a daemon that ignores reloads, a worker that cannot be stopped. Found by the full
/// test suite, where tests that used librbd in-process were followed by daemons that ignored SIGHUP.
/// The window is the hand-over only; .NET's signal handlers may run on any thread.
/// </summary>
internal static unsafe partial class CephThreadSignals
{
    internal const int SIG_SETMASK = 2;
    internal const int SigSetBytes = 128; // glibc's sigset_t (1024 bits) on every Linux architecture

    public static void Unblocked<T>(Action<T> action, T state)
    {
        var empty = stackalloc byte[SigSetBytes];
        var old = stackalloc byte[SigSetBytes];
        new Span<byte>(empty, SigSetBytes).Clear();
        var changed = OperatingSystem.IsLinux() && pthread_sigmask(SIG_SETMASK, empty, old) == 0;
        try { action(state); }
        finally { if (changed) _ = pthread_sigmask(SIG_SETMASK, old, null); }
    }

    [LibraryImport("libc", EntryPoint = "pthread_sigmask")]
    internal static partial int pthread_sigmask(int how, byte* set, byte* oldSet);
}

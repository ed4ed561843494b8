using System.Diagnostics;
using Backy.Sources.Ceph;

namespace Backy.Tests.Ceph;

/// <summary>
/// A process started from a thread that blocks every signal (as Ceph's threads do) inherits that mask; started
/// inside <see cref="CephThreadSignals.Unblocked{T}"/> it blocks none. This is what a librbd completion does when it
/// wakes the thread pool: a pool thread created there would otherwise hand the mask to every child it starts.
/// </summary>
public unsafe class CephThreadSignalsTests
{
    [Test, CancelAfter(30_000)]
    public void A_child_started_inside_the_hand_over_of_a_thread_that_blocks_every_signal_blocks_none()
    {
        string? blocked = null, unblocked = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var all = stackalloc byte[CephThreadSignals.SigSetBytes];
                new Span<byte>(all, CephThreadSignals.SigSetBytes).Fill(0xff);
                Assert.That(CephThreadSignals.pthread_sigmask(CephThreadSignals.SIG_SETMASK, all, null), Is.Zero);
                blocked = SignalMaskOfAChild();
                CephThreadSignals.Unblocked(_ => unblocked = SignalMaskOfAChild(), 0);
            }
            catch (Exception e) { failure = e; }
        });
        thread.Start();
        thread.Join();

        Assert.That(failure, Is.Null);
        Assert.That(blocked, Is.Not.EqualTo("0000000000000000"), "the mask is inherited (else this test proves nothing)");
        Assert.That(unblocked, Is.EqualTo("0000000000000000"));
    }

    private static string SignalMaskOfAChild()
    {
        using var child = Process.Start(new ProcessStartInfo("grep", ["SigBlk", "/proc/self/status"]) { RedirectStandardOutput = true })!;
        var line = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        return line.Split(':', StringSplitOptions.TrimEntries)[1];
    }
}

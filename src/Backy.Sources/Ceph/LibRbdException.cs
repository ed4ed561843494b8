using System.Runtime.InteropServices;
using Backy.Storage;

namespace Backy.Sources.Ceph;

/// <summary>
/// A librados/librbd call failed: <c>librbd: WHAT of POOL/IMAGE[@SNAP] failed: REASON (errno N)</c>. The errno is
/// kept so that callers can tell "does not exist" (ENOENT) and "exists already" (EEXIST) from real trouble.
/// </summary>
public sealed class LibRbdException : BackyException
{
    public const int ENOENT = 2;
    public const int EBUSY = 16;
    public const int EEXIST = 17;

    /// <summary>The steps whose ENOENT means "no such pool" and "no such image" (a missing config file is ENOENT too).</summary>
    internal const string OpeningPool = "opening the pool", OpeningImage = "opening the image";

    /// <summary>The steps that fail when the cluster cannot be reached (monitors, config, keyring).</summary>
    internal const string ReadingConfig = "reading the Ceph config", Connecting = "connecting to the cluster";

    public LibRbdException(string what, string target, int errno)
        : base($"librbd: {what} of {target} failed: {Reason(errno)}")
    {
        What = what;
        Errno = errno;
    }

    public string What { get; }

    /// <summary>"Connection timed out (errno 110)".</summary>
    public string ErrnoText => Reason(Errno);

    private static string Reason(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";

    public int Errno { get; }

    /// <summary>The pool or the image (or snapshot) does not exist.</summary>
    public bool NotFound => Errno == ENOENT && What is OpeningPool or OpeningImage;

    /// <summary>The client could not reach the cluster: no usable config, keyring or monitor.</summary>
    public bool NoCluster => What is ReadingConfig or Connecting;

    /// <summary>Throws for a negative return value; returns non-negative ones (byte counts) unchanged.</summary>
    internal static long Check(long rc, string what, string target) =>
        rc >= 0 ? rc : throw new LibRbdException(what, target, (int)-rc);
}

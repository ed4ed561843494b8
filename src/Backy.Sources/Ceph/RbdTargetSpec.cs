using Backy.Storage;

namespace Backy.Sources.Ceph;

/// <summary>
/// A restore target in qemu's spelling, <c>rbd:POOL/IMAGE</c>. Anything else is not an rbd target (a file named
/// <c>rbd:x</c> needs <c>./rbd:x</c>).
/// </summary>
public static class RbdTargetSpec
{
    public const string Prefix = "rbd:";

    public static bool IsRbd(string target) => target.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Parses <c>rbd:POOL/IMAGE</c>; a snapshot (<c>@</c>) or a missing part is an error naming the target.</summary>
    public static RbdImageSpec Parse(string target)
    {
        var rest = target[Prefix.Length..];
        var slash = rest.IndexOf('/');
        if (slash <= 0 || slash == rest.Length - 1 || rest.IndexOf('/', slash + 1) >= 0 || rest.Contains('@'))
            throw new BackyException($"restore target '{target}': expected rbd:POOL/IMAGE (no snapshot)");
        try
        {
            return new RbdImageSpec(rest[..slash], rest[(slash + 1)..]);
        }
        catch (ConfigException e)
        {
            throw new BackyException($"restore target '{target}': {e.Message.Replace("source.", "", StringComparison.Ordinal)}", e);
        }
    }
}

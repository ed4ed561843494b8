using Backy.Storage.Jobs;
using Grpc.Core;

namespace Backy.Daemon.Api;

/// <summary>
/// Dead backups: directories in base-dir without a configured job. Their names arrive over the
/// network (peers), so <see cref="Resolve"/> is the only way from a name to a path: one plain path
/// component, not an active job, not a symbolic link (a link could lead out of base-dir or onto an
/// active job's directory).
/// </summary>
internal static class DeadBackupDirectories
{
    /// <summary>Sorted by name (ordinal). Hidden entries and symbolic links are not backups.</summary>
    public static IReadOnlyList<string> List(string baseDir, IReadOnlySet<string> jobs) =>
        Enumerate(baseDir, jobs).Select(d => d.Name).Order(StringComparer.Ordinal).ToList();

    /// <summary>The rule, for the API and for housekeeping: a job directory entry of base-dir
    /// (<see cref="JobLayout.IsJobDirectoryEntry"/>) without a configured job.</summary>
    public static IEnumerable<DirectoryInfo> Enumerate(string baseDir, IReadOnlySet<string> jobs)
    {
        var dir = new DirectoryInfo(baseDir);
        return dir.Exists
            ? dir.EnumerateDirectories().Where(d => JobLayout.IsJobDirectoryEntry(d) && !jobs.Contains(d.Name))
            : [];
    }

    /// <summary>The directory of dead backup <paramref name="name"/>.</summary>
    /// <exception cref="RpcException">InvalidArgument (not a plain name), PermissionDenied (an active
    /// job, or a symbolic link), NotFound (no such directory).</exception>
    public static string Resolve(string baseDir, string name, IReadOnlySet<string> jobs)
    {
        if (InvalidReason(name) is { } reason)
            throw Fail(StatusCode.InvalidArgument, $"invalid backup name '{Printable.Of(name, 100)}': {reason}");
        if (jobs.Contains(name))
            throw Fail(StatusCode.PermissionDenied, $"backup '{name}' is an active job on this server");
        var path = Path.Join(baseDir, name);
        var info = new DirectoryInfo(path);
        if (info.LinkTarget is not null)
            throw Fail(StatusCode.PermissionDenied, $"backup '{name}' is a symbolic link");
        if (!info.Exists)
            throw Fail(StatusCode.NotFound, $"no backup '{name}' on this server");
        return path;
    }

    private static string? InvalidReason(string name) => name switch
    {
        "" => "empty",
        "." or ".." => "not a directory name",
        _ when name.Contains('/') || name.Contains('\\') => "contains a path separator",
        _ when name.Any(char.IsControl) => "contains a control character",
        _ when name.StartsWith('.') => "hidden names are not backups",
        _ when name.Length > 255 => "longer than 255 characters",
        _ => null,
    };

    private static RpcException Fail(StatusCode code, string message) => new(new Status(code, message));
}

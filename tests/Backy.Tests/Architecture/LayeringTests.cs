using System.Reflection;

namespace Backy.Tests.Architecture;

/// <summary>
/// Keeps the dependency edges of STYLE.md honest: dependencies point inward, and the daemon
/// never links the worker (it starts `backy-worker` as a process so a crashing backup cannot
/// take the scheduler down).
/// </summary>
public class LayeringTests
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        // The contracts and their one client (ApiConnection, ApiHeaders): `backy client` and the daemon's peer sync
        // both call daemons, so the client lives with the contract rather than in the daemon that serves it.
        ["Backy.Protocol"] = [],
        ["Backy.Storage"] = [],
        ["Backy.Sources"] = ["Backy.Storage"],
        // The S3 client of off-site copies: the only project that references AWSSDK.
        ["Backy.Copies.S3"] = ["Backy.Storage"],
        ["Backy.Worker"] = ["Backy.Storage", "Backy.Sources", "Backy.Copies.S3"],
        // The daemon reads the source settings schemas of Backy.Sources (Config/SourceTypes); it never makes a source.
        ["Backy.Daemon"] = ["Backy.Protocol", "Backy.Storage", "Backy.Sources"],
        ["Backy.Cli"] = ["Backy.Protocol", "Backy.Storage", "Backy.Sources", "Backy.Copies.S3", "Backy.Worker", "Backy.Daemon"],
    };

    private static readonly Dictionary<string, string> FileNames = new()
    {
        ["Backy.Worker"] = "backy-worker",
        ["Backy.Daemon"] = "backy-daemon",
        ["Backy.Cli"] = "backy",
    };

    private static string AssemblyFileName(string project) => FileNames.GetValueOrDefault(project, project);

    [TestCaseSource(nameof(Projects))]
    public void Project_references_only_inner_layers(string project)
    {
        var path = Path.Combine(AppContext.BaseDirectory, AssemblyFileName(project) + ".dll");
        var assembly = Assembly.LoadFrom(path);
        var ours = assembly.GetReferencedAssemblies()
            .Select(a => a.Name!)
            .Where(n => n.StartsWith("Backy.", StringComparison.Ordinal) || n.StartsWith("backy", StringComparison.Ordinal))
            .Select(n => FileNames.FirstOrDefault(kv => kv.Value == n).Key ?? n)
            .ToArray();

        Assert.That(ours, Is.SubsetOf(Allowed[project]), $"{project} references a layer it must not know");
    }

    private static IEnumerable<string> Projects() => Allowed.Keys;
}

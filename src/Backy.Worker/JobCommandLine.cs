using System.CommandLine;

namespace Backy.Worker;

/// <summary>
/// The command line of the job actions (backup, restore, purge, status, ...), with the global
/// options. <c>backy-worker</c> and <c>backy</c> both build on this, so every job command is
/// implemented exactly once.
/// </summary>
public static class JobCommandLine
{
    public static RootCommand CreateRoot(string description = "Backy: block-device backup and restore")
    {
        var root = new RootCommand(description);
        // Global options and job subcommands are added here (issue 2/3).
        return root;
    }

    /// <summary>Parses and runs, mapping errors to exit status 1 with one line on stderr.</summary>
    public static Task<int> InvokeAsync(RootCommand root, string[] args) => root.Parse(args).InvokeAsync();
}

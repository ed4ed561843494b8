using System.CommandLine;

namespace Backy.Worker.Commands;

/// <summary>The shared <c>-r/--revision</c> option (a full id, a number counting back from 0, last/latest, or a tag).</summary>
public static class RevisionOption
{
    public static Option<string?> Create(string description) => new("--revision", "-r")
    {
        Description = description + ": a revision id, 0 = newest, 1 = the one before, last/latest, or a tag",
        HelpName = "REVISION",
    };
}

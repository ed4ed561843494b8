using System.CommandLine;

namespace Backy.Worker.Commands;

/// <summary>The shared <c>-f/--force</c> of <c>backup</c> and <c>tags</c>: disables tag validation.</summary>
public static class ForceOption
{
    public static Option<bool> Create() => new("--force", "-f")
    {
        Description = "Accept tags that are not in the schedule and do not start with 'manual:' (the next expire may remove them)",
    };
}

using System.CommandLine;

namespace Backy.Cli.Scheduler;

/// <summary><c>backy scheduler [-c CONFIG]</c>: runs the daemon host in this process.</summary>
public static class SchedulerCommand
{
    public static Command Create()
    {
        var command = new Command("scheduler", "Run the backup scheduler daemon");
        return command;
    }
}

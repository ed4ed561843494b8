using System.CommandLine;
using Backy.Daemon.Hosting;
using Backy.Worker;

namespace Backy.Cli.Scheduler;

/// <summary><c>backy scheduler [-c CONFIG]</c>: runs the daemon host in this process (the same
/// <see cref="DaemonHost.RunAsync"/> as <c>backy-daemon</c>).</summary>
public static class SchedulerCommand
{
    /// <param name="config"><c>-c</c> before or after the command (BackyCommandLine), shared with the client.</param>
    /// <param name="globals">The root's -l/-v (JobCommandLine.CreateRoot).</param>
    public static Command Create(ConfigOption config, GlobalOptions globals)
    {
        // Stops exactly like backy-daemon: the host handles SIGTERM (workers get BACKY_WORKER_GRACE), exit 0.
        var command = new SelfStoppingCommand("scheduler", "Run the backup scheduler daemon") { config.AfterCommand };
        command.SetAction((parse, _) =>
        {
            var options = new DaemonOptions(
                ConfigPath: config.Resolve(parse),
                // The global -l/-v belong to the root command; the scheduler's log defaults elsewhere.
                LogFile: parse.GetValue(globals.LogFile) ?? DaemonOptions.DefaultLogFile,
                Verbose: parse.GetValue(globals.Verbose));
            return DaemonHost.RunAsync(options);
        });
        return command;
    }
}

using System.CommandLine;
using Backy.Daemon.Hosting;
using Backy.Worker;

namespace Backy.Cli.Scheduler;

/// <summary><c>backy scheduler [-c CONFIG]</c>: runs the daemon host in this process (the same
/// <see cref="DaemonHost.RunAsync"/> as <c>backy-daemon</c>).</summary>
public static class SchedulerCommand
{
    /// <param name="config"><c>-c</c> before or after the command (BackyCommandLine), shared with the client.</param>
    public static Command Create(ConfigOption config)
    {
        // Stops exactly like backy-daemon: the host handles SIGTERM (workers get BACKY_WORKER_GRACE), exit 0.
        var command = new SelfStoppingCommand("scheduler", "Run the backup scheduler daemon") { config.AfterCommand };
        command.SetAction((parse, _) =>
        {
            var options = new DaemonOptions(
                ConfigPath: config.Resolve(parse),
                // The global -l/-v belong to the root command; the scheduler's log defaults elsewhere.
                LogFile: GlobalValue<string>(parse, "--logfile") ?? DaemonOptions.DefaultLogFile,
                Verbose: GlobalValue<bool>(parse, "--verbose"));
            return DaemonHost.RunAsync(options);
        });
        return command;
    }

    /// <summary>A recursive option of the root command, looked up by name so that this command does
    /// not depend on how the job command line declares it.</summary>
    private static T? GlobalValue<T>(ParseResult parse, string name)
    {
        var option = parse.RootCommandResult.Command.Options.OfType<Option<T>>().FirstOrDefault(o => o.Name == name);
        return option is null ? default : parse.GetValue(option);
    }
}

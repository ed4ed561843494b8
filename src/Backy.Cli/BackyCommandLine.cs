using System.CommandLine;
using Backy.Cli.Client;
using Backy.Cli.Scheduler;
using Backy.Daemon.Config;
using Backy.Worker;

namespace Backy.Cli;

/// <summary>
/// The whole <c>backy</c> command line: every job command of backy-worker, <c>scheduler</c> and
/// <c>client</c>. <c>-c CONFIG</c> works wherever the manual puts it: before the command
/// (<c>backy -c CONF -l LOG scheduler</c>, the manual's example, and <c>backy -c CONF client jobs</c>)
/// and after it (<c>backy scheduler -c CONF</c>, <c>backy client -c CONF jobs</c>, <c>backy client jobs
/// -c CONF</c>). The job commands have no configuration file: there <c>-c</c> is an error, not silently
/// ignored, and their help does not list it.
/// </summary>
public static class BackyCommandLine
{
    public static RootCommand CreateRoot()
    {
        var globals = new GlobalOptions();
        var root = JobCommandLine.CreateRoot(globals);
        var config = new ConfigOption();
        root.Options.Add(config.BeforeCommand);
        var jobCommands = root.Subcommands.ToList();
        root.Subcommands.Add(SchedulerCommand.Create(config, globals));
        root.Subcommands.Add(ClientCommand.Create(config, globals));
        foreach (var command in jobCommands)
            command.Validators.Add(result =>
            {
                if (result.GetResult(config.BeforeCommand) is { Implicit: false })
                    result.AddError($"-c/--config applies to the scheduler and client commands only, not to '{command.Name}'");
            });
        return root;
    }
}

/// <summary>
/// <c>-c/--config</c>, declared twice because System.CommandLine ties an option to its place: once on
/// the root (before the command), once recursive on scheduler and client (after it). The one after
/// the command wins when both are given.
/// </summary>
public sealed class ConfigOption
{
    public Option<string?> BeforeCommand { get; } = Create(recursive: false);

    public Option<string?> AfterCommand { get; } = Create(recursive: true);

    public string Resolve(ParseResult parse) =>
        parse.GetValue(AfterCommand) ?? parse.GetValue(BeforeCommand) ?? DaemonConfigReader.DefaultPath;

    private static Option<string?> Create(bool recursive) => new("--config", "-c")
    {
        Description = $"Path to the scheduler configuration file (default {DaemonConfigReader.DefaultPath})",
        HelpName = "CONFIG",
        Recursive = recursive,
    };
}

using System.CommandLine;
using Backy.Protocol;
using Backy.Worker;

namespace Backy.Cli.Client;

/// <summary><c>backy client [-c CONFIG] [-p PEER] [--url URL --token TOKEN] ACTION</c>: talks to a
/// running daemon over gRPC.</summary>
public static class ClientCommand
{
    /// <param name="config"><c>-c</c> before or after the command (BackyCommandLine): the daemon
    /// configuration file, read for its api and peers sections only.</param>
    /// <param name="globals">The root's -t/-l/-v (JobCommandLine.CreateRoot).</param>
    public static Command Create(ConfigOption config, GlobalOptions globals)
    {
        var options = new ClientOptions(
            config, globals,
            new Option<string?>("--peer", "-p") { Description = "Talk to this peer from the configuration's peers", Recursive = true },
            new Option<string?>("--url") { Description = "Daemon URL (overrides --config and --peer)", Recursive = true },
            new Option<string?>("--token") { Description = "API token (overrides --config and --peer)", Recursive = true },
            new Option<double>("--timeout")
            {
                Description = "Seconds to wait for each answer of the daemon (default 60); past it: one line and exit 1 (check: UNKNOWN, exit 3)",
                HelpName = "SECONDS",
                DefaultValueFactory = _ => ApiConnection.DefaultCallTimeout.TotalSeconds,
                Recursive = true,
                Validators = { r => { if (r.GetValueOrDefault<double>() is not (> 0 and <= 86400)) r.AddError("--timeout must be a number of seconds between 0 and 86400"); } },
            });

        var command = new Command("client", "Query and control a running backy daemon")
        {
            config.AfterCommand, options.Peer, options.Url, options.Token, options.Timeout,
        };

        var check = new Command("check", "Nagios check: exit 0 OK, 1 WARNING (quarantine reports), 2 CRITICAL (a job is overdue), 3 UNKNOWN");
        check.SetAction((result, ct) => new ClientSession(result, options, isCheck: true).RunAsync(ClientActions.CheckAsync, ct));

        var filter = new Argument<string?>("FILTER") { Description = "Regular expression that job names must contain a match of", Arity = ArgumentArity.ZeroOrOne };
        var jobs = new Command("jobs", "Table of every job and of directories without a job") { filter };
        jobs.SetAction((result, ct) => new ClientSession(result, options).RunAsync((s, c) => ClientActions.JobsAsync(s, result.GetValue(filter), c), ct));

        var status = new Command("status", "Number of jobs in each state");
        status.SetAction((result, ct) => new ClientSession(result, options).RunAsync(ClientActions.StatusAsync, ct));

        var job = new Argument<string>("JOB") { Description = "Job name" };
        var run = new Command("run", "Run a job now") { job };
        run.SetAction((result, ct) => new ClientSession(result, options).RunAsync((s, c) => ClientActions.RunAsync(s, result.GetValue(job)!, c), ct));

        var runAll = new Command("runall", "Run every job now");
        runAll.SetAction((result, ct) => new ClientSession(result, options).RunAsync(ClientActions.RunAllAsync, ct));

        var reload = new Command("reload", "Make the daemon re-read its configuration");
        reload.SetAction((result, ct) => new ClientSession(result, options).RunAsync(ClientActions.ReloadAsync, ct));

        foreach (var action in new[] { check, jobs, status, run, runAll, reload })
            command.Subcommands.Add(action);
        return command;
    }
}

/// <summary>The options every client action shares.</summary>
internal sealed record ClientOptions(ConfigOption Config, GlobalOptions Globals, Option<string?> Peer, Option<string?> Url, Option<string?> Token, Option<double> Timeout);

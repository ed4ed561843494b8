using Backy.Cli.Client;
using Backy.Cli.Scheduler;
using Backy.Worker;

// `backy` = every job command of backy-worker + `scheduler` (runs the daemon host) + `client` (talks to it).
var root = JobCommandLine.CreateRoot();
root.Subcommands.Add(SchedulerCommand.Create());
root.Subcommands.Add(ClientCommand.Create());
return await JobCommandLine.InvokeAsync(root, args);

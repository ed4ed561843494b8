using Backy.Cli;
using Backy.Worker;

// `backy` = every job command of backy-worker + `scheduler` (runs the daemon host) + `client` (talks to it).
return await JobCommandLine.InvokeAsync(BackyCommandLine.CreateRoot(), args);

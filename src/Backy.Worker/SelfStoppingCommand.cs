using System.CommandLine;

namespace Backy.Worker;

/// <summary>
/// A command whose action handles SIGTERM and SIGINT itself: <c>backy scheduler</c>, whose .NET host stops
/// the job loops and gives every running worker <c>BACKY_WORKER_GRACE</c> seconds. System.CommandLine's own
/// termination handler is switched off for it (<see cref="JobCommandLine.InvokeAsync"/>): that handler ends
/// the process 2 s after the signal, which killed the scheduler in the middle of stopping its workers and
/// left them running with their job locks held (issue 14.3).
/// </summary>
public sealed class SelfStoppingCommand(string name, string? description = null) : Command(name, description);

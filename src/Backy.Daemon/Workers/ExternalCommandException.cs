using Backy.Storage;

namespace Backy.Daemon.Workers;

/// <summary>A worker or callback exited non-zero. Carries the exit code and the tail of its stderr
/// (the whole stderr is already in the daemon log, line by line).</summary>
public sealed class ExternalCommandException(string command, int exitCode, string stderrTail)
    : BackyException($"{command} failed with exit status {exitCode}" + (stderrTail.Length > 0 ? $": {stderrTail}" : ""))
{
    public string Command { get; } = command;
    public int ExitCode { get; } = exitCode;
    public string StderrTail { get; } = stderrTail;
}

namespace Backy.Storage;

/// <summary>
/// An external program (rbd, backy-worker, ...) exited with a non-zero status. Carries the exit code and the
/// program's stderr so that the operator sees the program's own reason, not just "exit code 2".
/// </summary>
public class ExternalCommandException : BackyException
{
    public ExternalCommandException(string command, int exitCode, string stderr)
        : base(FormatMessage(command, exitCode, stderr))
    {
        Command = command;
        ExitCode = exitCode;
        Stderr = stderr;
    }

    /// <summary>What ran, as an operator would type it (program and arguments).</summary>
    public string Command { get; }

    public int ExitCode { get; }

    /// <summary>The program's stderr (possibly truncated to its last part for very chatty programs).</summary>
    public string Stderr { get; }

    private static string FormatMessage(string command, int exitCode, string stderr)
    {
        // One line for the operator: the last non-empty stderr line usually holds the reason
        // ("rbd: error opening image x: (2) No such file or directory").
        var reason = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .LastOrDefault() ?? "no error output";
        return $"'{command}' failed with exit code {exitCode}: {reason}";
    }
}

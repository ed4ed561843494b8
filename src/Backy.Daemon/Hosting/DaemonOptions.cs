namespace Backy.Daemon.Hosting;

/// <summary>How the daemon was started (command line of <c>backy-daemon</c> or <c>backy scheduler</c>).</summary>
/// <param name="ConfigPath">The configuration file (<c>-c</c>, default /etc/backy.conf).</param>
/// <param name="LogFile">The verbose log file (<c>-l</c>, default /var/log/backy.log).</param>
/// <param name="Verbose">Debug messages on stderr too (<c>-v</c>).</param>
public sealed record DaemonOptions(string ConfigPath = DaemonOptions.DefaultConfigPath, string LogFile = DaemonOptions.DefaultLogFile, bool Verbose = false)
{
    public const string DefaultConfigPath = "/etc/backy.conf";
    public const string DefaultLogFile = "/var/log/backy.log";
}

using System.Security.Cryptography;

namespace Backy.Daemon.Scheduling;

/// <summary>Task ids tie together the daemon's and the worker's log lines of one run.</summary>
public static class TaskIds
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Eight characters: unique enough among one day's runs, short enough to read.</summary>
    public static string New() => RandomNumberGenerator.GetString(Alphabet, 8);
}

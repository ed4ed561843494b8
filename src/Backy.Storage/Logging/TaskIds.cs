using System.Security.Cryptography;

namespace Backy.Storage.Logging;

/// <summary>
/// Task ids tie together the log lines of one run in every log it touches: the daemon's, the worker's (its
/// <c>-t</c>), the client's and the daemon's answer to it. One generator for all three, so the ids look alike
/// wherever an operator greps for them.
/// </summary>
public static class TaskIds
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Eight characters: unique enough among one day's runs, short enough to read.</summary>
    public static string New() => RandomNumberGenerator.GetString(Alphabet, 8);
}

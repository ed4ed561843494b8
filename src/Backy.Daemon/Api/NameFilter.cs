using System.Text.RegularExpressions;
using Grpc.Core;

namespace Backy.Daemon.Api;

/// <summary>
/// The optional name filter of the listing calls: a .NET regular expression searched in names.
/// Patterns arrive over the network, so an invalid one is InvalidArgument with the parser's reason
/// and matching runs under a timeout: a catastrophically backtracking pattern costs at most
/// <see cref="MatchTimeout"/> per name instead of a daemon thread.
/// </summary>
internal sealed class NameFilter
{
    /// <summary>Names are short; an honest pattern matches one in microseconds.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>Longer patterns are not filters a person types.</summary>
    public const int MaxPatternLength = 1024;

    private readonly Regex? _regex;

    private NameFilter(Regex? regex) => _regex = regex;

    public static NameFilter All { get; } = new(null);

    /// <exception cref="RpcException">InvalidArgument: the pattern does not parse or is too long.</exception>
    public static NameFilter Parse(string? pattern)
    {
        if (string.IsNullOrEmpty(pattern))
            return All;
        if (pattern.Length > MaxPatternLength)
            throw Invalid($"invalid filter: longer than {MaxPatternLength} characters");
        try
        {
            return new NameFilter(new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout));
        }
        catch (ArgumentException e)
        {
            throw Invalid($"invalid filter '{pattern}': {e.Message}");
        }
    }

    /// <exception cref="RpcException">InvalidArgument: matching took longer than the timeout.</exception>
    public bool IsMatch(string name)
    {
        if (_regex is null)
            return true;
        try
        {
            return _regex.IsMatch(name);
        }
        catch (RegexMatchTimeoutException)
        {
            throw Invalid($"filter '{_regex}' took longer than {MatchTimeout.TotalMilliseconds} ms to match '{name}'");
        }
    }

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}

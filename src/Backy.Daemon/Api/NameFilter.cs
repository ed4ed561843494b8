using System.Text.RegularExpressions;
using Grpc.Core;

namespace Backy.Daemon.Api;

/// <summary>
/// The optional name filter of the listing calls: a .NET regular expression searched in names.
/// Patterns arrive over the network, so an invalid one is InvalidArgument with the parser's reason
/// and matching runs under a timeout: a catastrophically backtracking pattern costs at most
/// <see cref="MatchTimeout"/> per name instead of a daemon thread, and at most
/// <see cref="TotalBudget"/> for one call (a pattern tuned to stay just under the timeout on every
/// one of 200 names would otherwise hold a thread for 40 s). An instance serves one call.
/// </summary>
internal sealed class NameFilter
{
    /// <summary>Names are short; an honest pattern matches one in microseconds.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>Thousands of names with an honest pattern take milliseconds.</summary>
    public static readonly TimeSpan TotalBudget = TimeSpan.FromSeconds(1);

    /// <summary>Longer patterns are not filters a person types.</summary>
    public const int MaxPatternLength = 1024;

    private readonly Regex? _regex;
    private readonly TimeProvider _time;
    private TimeSpan _spent;

    private NameFilter(Regex? regex, TimeProvider time) => (_regex, _time) = (regex, time);

    public static NameFilter All { get; } = new(null, TimeProvider.System);

    /// <exception cref="RpcException">InvalidArgument: the pattern does not parse or is too long.</exception>
    /// <param name="time">Measures the time spent matching (tests step it).</param>
    public static NameFilter Parse(string? pattern, TimeProvider? time = null)
    {
        if (string.IsNullOrEmpty(pattern))
            return All;
        if (pattern.Length > MaxPatternLength)
            throw Invalid($"invalid filter: {pattern.Length} characters, at most {MaxPatternLength} allowed");
        try
        {
            return new NameFilter(new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout), time ?? TimeProvider.System);
        }
        catch (ArgumentException e)
        {
            throw Invalid($"invalid filter '{Printable.Of(pattern)}': {e.Message}");
        }
    }

    /// <exception cref="RpcException">InvalidArgument: matching took longer than the timeout, or
    /// all names of this call together longer than the budget.</exception>
    public bool IsMatch(string name)
    {
        if (_regex is null)
            return true;
        var start = _time.GetTimestamp();
        bool matched;
        try
        {
            matched = _regex.IsMatch(name);
        }
        catch (RegexMatchTimeoutException)
        {
            throw Invalid($"filter '{Printable.Of(_regex.ToString())}' took longer than {MatchTimeout.TotalMilliseconds} ms to match '{Printable.Of(name)}'");
        }
        _spent += _time.GetElapsedTime(start);
        if (_spent > TotalBudget)
            throw Invalid($"filter '{Printable.Of(_regex.ToString())}' took longer than {TotalBudget.TotalMilliseconds} ms over the names matched so far");
        return matched;
    }

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}

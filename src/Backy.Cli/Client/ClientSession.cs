using System.CommandLine;
using System.Security.Cryptography;
using Backy.Daemon.Config;
using Backy.Protocol;
using Backy.Storage;
using Backy.Storage.Logging;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Backy.Cli.Client;

/// <summary>
/// One <c>backy client</c> invocation: resolves the target, opens the connection, runs the action
/// and maps every failure to one line and the exit status (1, or UNKNOWN = 3 for <c>check</c>,
/// which reports on stdout where monitoring reads it).
/// </summary>
internal sealed partial class ClientSession
{
    /// <summary>Pipes and files get whole table rows instead of 80-column wrapping.</summary>
    private const int RedirectedWidth = 250;

    private readonly ParseResult _result;
    private readonly ClientOptions _options;
    private readonly bool _isCheck;
    private readonly TextWriter _out;
    private readonly TextWriter _error;
    private ApiConnection? _connection;

    public ClientSession(ParseResult result, ClientOptions options, bool isCheck = false)
    {
        _result = result;
        _options = options;
        _isCheck = isCheck;
        _out = result.InvocationConfiguration.Output;
        _error = result.InvocationConfiguration.Error;
        Console = CreateConsole(_out);
        TimeZone = TimeZoneInfo.Local;
    }

    public IAnsiConsole Console { get; }
    public TimeZoneInfo TimeZone { get; }
    public ApiConnection Connection => _connection ?? throw new InvalidOperationException("not connected");
    public ILogger Log { get; private set; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void WriteLine(string line) => _out.WriteLine(line);

    public async Task<int> RunAsync(Func<ClientSession, CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        var taskId = _result.GetValue(_options.Globals.TaskId) ?? TaskIds.New();
        // The job commands' logger: the task id on every line, stderr, and the -l file if given
        // (the manual: client has no default log file).
        using var logs = FileLoggerProvider.OpenOrWarn(_result.GetValue(_options.Globals.LogFile), _error, _result.GetValue(_options.Globals.Verbose), taskId);
        Log = logs.CreateLogger("backy.client");
        ClientTarget? target = null;
        var timeout = TimeSpan.FromSeconds(_result.GetValue(_options.Timeout));
        try
        {
            target = ClientTarget.Resolve(
                _options.Config.Resolve(_result), _result.GetValue(_options.Peer),
                _result.GetValue(_options.Url), _result.GetValue(_options.Token));
            if (target.ConfigWarning is { } warning)
                _error.WriteLine($"backy client: warning: {warning}");
            using var connection = new ApiConnection(target.Url, target.Token, taskId, target.TrustedCertificatePath, timeout);
            _connection = connection;
            LogCalling(Log, _result.CommandResult.Command.Name, target.Url, taskId);
            return await action(this, cancellationToken);
        }
        catch (RpcException e)
        {
            return Fail(Describe(e, target!.Url));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && target is not null)
        {
            // ApiConnection turns a passed deadline into OperationCanceledException: a daemon that accepted
            // the connection but never answered (stuck, or not a backy daemon at all).
            return Fail($"the backy daemon at {target.Url} did not answer within {timeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} s (--timeout)");
        }
        catch (OperationCanceledException)
        {
            return Fail("cancelled");
        }
        catch (ConfigValidationException e)
        {
            var more = e.Errors.Count > 1 ? $" (and {e.Errors.Count - 1} more)" : "";
            return Fail($"invalid configuration {e.Errors[0].Format(e.ConfigPath)}{more}");
        }
        catch (BackyException e)
        {
            return Fail(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            return Fail(e.Message);
        }
        catch (Exception e)
        {
            // The CLI's exit-code boundary (STYLE): whatever happened, one line and the exit status
            // monitoring understands, never an unhandled exception (rc 134).
            return Fail($"{e.GetType().Name}: {e.Message}");
        }
    }

    private int Fail(string message)
    {
        LogFailed(Log, message);
        if (_isCheck)
        {
            foreach (var line in CheckReport.Unknown(message).Lines)
                _out.WriteLine(line);
            return (int)CheckState.Unknown;
        }
        _error.WriteLine($"backy client: {message}");
        return 1;
    }

    /// <summary>One line an operator can act on: what was unreachable or refused, and why.</summary>
    internal static string Describe(RpcException e, Uri url) => e.StatusCode switch
    {
        // Connection and TLS failures surface as Unavailable or as Internal "Error starting gRPC call".
        _ when e.Status.DebugException is HttpRequestException or System.Net.Sockets.SocketException =>
            $"cannot reach the backy daemon at {url}: {Innermost(e.Status.DebugException).Message}",
        StatusCode.Unavailable => $"cannot reach the backy daemon at {url}: {e.Status.Detail}",
        StatusCode.Unauthenticated => $"the backy daemon at {url} refused the token: {e.Status.Detail}",
        StatusCode.DeadlineExceeded => $"the backy daemon at {url} did not answer in time",
        // The daemon's own messages for bad input name the thing and the reason already.
        StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.FailedPrecondition => e.Status.Detail,
        _ => $"the backy daemon at {url} answered {e.StatusCode}: {e.Status.Detail}",
    };

    private static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);

    private static IAnsiConsole CreateConsole(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
        });
        var terminal = ReferenceEquals(writer, System.Console.Out) && !System.Console.IsOutputRedirected;
        if (!terminal)
            console.Profile.Width = RedirectedWidth;
        return console;
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Debug, Message = "client {Action}: calling {Url} with task id {TaskId}")]
    private static partial void LogCalling(ILogger logger, string action, Uri url, string taskId);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Debug, Message = "client failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}

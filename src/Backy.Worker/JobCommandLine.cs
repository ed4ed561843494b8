using System.CommandLine;
using Backy.Storage;
using Backy.Storage.IO;
using Backy.Worker.Commands;
using Backy.Worker.Logging;

namespace Backy.Worker;

/// <summary>
/// The command line of the job actions (backup, restore, purge, status, ...), with the global
/// options. <c>backy-worker</c> and <c>backy</c> both build on this, so every job command is
/// implemented exactly once. Adding a command: one file in Commands/ with a static
/// <c>Create(GlobalOptions)</c> and one line in <see cref="Commands"/>.
/// </summary>
public static class JobCommandLine
{
    private static IEnumerable<Func<GlobalOptions, Command>> Commands =>
    [
        BackupCommand.Create,
        RestoreCommand.Create,
        PurgeCommand.Create,
        VerifyCommand.Create,
        StatusCommand.Create,
        UpgradeCommand.Create,
        DistrustCommand.Create,
        ForgetCommand.Create,
        TagsCommand.Create,
        ExpireCommand.Create,
        NbdServerCommand.Create,
        CopyCommand.Create,
    ];

    public static RootCommand CreateRoot(string description = "Backy: block-device backup and restore") =>
        CreateRoot(new GlobalOptions(), description);

    /// <param name="globals">The root's global options: <c>backy</c>'s scheduler and client read the same instances
    /// (-t, -l, -v) instead of looking them up by name.</param>
    public static RootCommand CreateRoot(GlobalOptions globals, string description = "Backy: block-device backup and restore")
    {
        var root = new RootCommand(description);
        globals.AddTo(root);
        foreach (var create in Commands) root.Subcommands.Add(create(globals));
        return root;
    }

    /// <summary>Parses and runs, mapping errors to exit status 1 with one line on stderr.</summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                await Console.Error.WriteLineAsync($"{root.Name}: {error.Message}").ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"Try '{root.Name} --help' for more information.").ConfigureAwait(false);
            return 1;
        }
        var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        if (parse.CommandResult.Command is SelfStoppingCommand)
            configuration.ProcessTerminationTimeout = null; // it stops itself on SIGTERM, however long that takes
        return await parse.InvokeAsync(configuration).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a job command's body with its context and maps failures to exit status 1: a
    /// <see cref="BackyException"/> is one line <c>program: message</c>; a file-system error that no code path named
    /// is one line naming the file and the system's reason (<see cref="IoErrors"/>); anything else is one line too, with
    /// the exception type. Stack traces only with <c>-v</c> (and always in the log file).
    /// </summary>
    public static async Task<int> RunAsync(ParseResult parse, GlobalOptions globals, string commandName, Func<JobContext, CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        var program = parse.RootCommandResult.Command.Name;
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        JobContext? context = null;
        try
        {
            context = new JobContext(parse, globals, commandName, output, error);
            context.Logger.CommandStarted(commandName, context.Job.Path);
            return await body(context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception thrown)
        {
            var message = FailureMessage(commandName, thrown);
            context?.Logger.CommandFailed(message, thrown);
            await error.WriteLineAsync($"{program}: {message}").ConfigureAwait(false);
            if (parse.GetValue(globals.Verbose)) await error.WriteLineAsync(thrown.ToString()).ConfigureAwait(false);
            return 1;
        }
        finally
        {
            context?.Dispose();
        }
    }

    /// <summary>
    /// The one line a failed command prints (after <c>program: </c>), for every command, on a job directory or on a
    /// copy (<c>--from</c>): our own message, or the file and the system's reason, or the exception type only for
    /// what nobody foresaw.
    /// </summary>
    internal static string FailureMessage(string commandName, Exception thrown)
    {
        var e = Unwrapped(thrown);
        var message = e switch
        {
            BackyException => e.Message,
            OperationCanceledException => $"{commandName} cancelled",
            _ when IoErrors.IsFileSystemError(e) => $"{commandName} failed: {IoErrors.Describe(e)}",
            DllNotFoundException => $"{commandName} failed: {NativeLibraryFailure(e.Message)}",
            _ => $"{commandName} failed: {e.GetType().Name}: {e.Message}",
        };
        var others = Failures(thrown).Select(x => x.Message).Distinct(StringComparer.Ordinal).Count() - 1;
        return others > 0 ? $"{message} (and {others} other error(s), see the log)" : message;
    }

    /// <summary>
    /// A native library (libzstd, librbd) that could not be loaded: .NET's message is several lines of advice with
    /// the loader's reasons last ("/usr/lib/.../libzstd.so: cannot open shared object file: Read-only file system");
    /// one line keeps the library's name and the first reason.
    /// </summary>
    static string NativeLibraryFailure(string message)
    {
        var name = message.Split('\'') is { Length: >= 3 } quoted ? quoted[1] : "a native library";
        // The loader tries several paths; the one that exists and failed says why (the others: "No such file").
        var tries = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Skip(1).Where(l => l.Contains(':')).ToList();
        var reason = tries.FirstOrDefault(l => !l.EndsWith("No such file or directory", StringComparison.Ordinal))
                     ?? tries.FirstOrDefault() ?? message.Split('\n')[0];
        return $"cannot load the native library '{name}': {reason}";
    }

    /// <summary>
    /// The failure the operator reads: the first one inside an <see cref="AggregateException"/> (parallel reads
    /// and conversions fail this way, often every worker with the same error), and the cause inside a
    /// <see cref="TypeInitializationException"/> (a static field whose native library or assembly could not be
    /// loaded: "The type initializer for '...' threw an exception" names neither).
    /// </summary>
    static Exception Unwrapped(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: > 0 } a => Unwrapped(a.InnerExceptions[0]),
        TypeInitializationException { InnerException: { } inner } => Unwrapped(inner),
        _ => e,
    };

    static IEnumerable<Exception> Failures(Exception e) => e is AggregateException a
        ? a.InnerExceptions.SelectMany(Failures)
        : [Unwrapped(e)];
}

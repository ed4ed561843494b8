using System.CommandLine;
using Backy.Storage.Jobs;
using Backy.Storage.Logging;
using Backy.Worker.Logging;
using Backy.Worker.Progress;
using Microsoft.Extensions.Logging;

namespace Backy.Worker;

/// <summary>What a job command runs with: the job directory, logging and the task id. One per invocation.</summary>
public sealed class JobContext : IDisposable
{
    private readonly FileLoggerProvider _logProvider;

    public JobDirectory Job { get; }
    public ILoggerFactory LoggerFactory { get; }
    public ILogger Logger { get; }
    public string TaskId { get; }
    public bool Verbose { get; }
    public TimeProvider Time { get; } = TimeProvider.System;
    public TextWriter Out { get; }

    /// <summary>stderr as the log writes it (lines go above a progress bar while one is drawn).</summary>
    internal StderrLines Error { get; }

    private readonly IDisposable? _scope;

    public JobContext(ParseResult parse, GlobalOptions globals, string commandName, TextWriter output, TextWriter error)
    {
        var directory = parse.GetValue(globals.BackupDir) ?? Directory.GetCurrentDirectory();
        Verbose = parse.GetValue(globals.Verbose);
        // A task id ties this worker's log lines to the daemon's that started it; make one when none is given.
        TaskId = parse.GetValue(globals.TaskId) ?? TaskIds.New();
        Out = output;
        Error = new StderrLines(error);
        var logFile = parse.GetValue(globals.LogFile) ?? new JobDirectory(directory).DefaultLogPath;
        _logProvider = FileLoggerProvider.OpenOrWarn(logFile, Error, Verbose, TaskId);
        LoggerFactory = new SingleProviderLoggerFactory(_logProvider);
        Logger = LoggerFactory.CreateLogger("backy." + commandName);
        // The job reports what it skips while listing (a damaged .rev) through the command's log.
        Job = new JobDirectory(directory, Logger);
        _scope = Logger.BeginScope(Job.Name);
    }

    /// <summary>Where this command's engine reports its progress (<see cref="CommandProgress"/>); dispose it when the operation ends.</summary>
    public CommandProgress StartProgress(string operation) => CommandProgress.Start(this, operation);

    public void Dispose()
    {
        _scope?.Dispose();
        LoggerFactory.Dispose();
        _logProvider.Dispose();
    }
}

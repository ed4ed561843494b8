using System.CommandLine;

namespace Backy.Worker;

/// <summary>The options every job command accepts (the manual's "Global options").</summary>
public sealed class GlobalOptions
{
    public Option<string?> BackupDir { get; } = new("--backupdir", "-b")
    {
        Description = "The job directory (default: the current directory)",
        HelpName = "DIRECTORY",
        Recursive = true,
    };

    public Option<string?> LogFile { get; } = new("--logfile", "-l")
    {
        Description = "Also write the log to this file (default: $backupdir/backy.log); the log always goes to stderr",
        HelpName = "LOGFILE",
        Recursive = true,
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Include diagnostic messages (and stack traces of errors) in stderr output",
        Recursive = true,
    };

    public Option<string?> TaskId { get; } = new("--taskid", "-t")
    {
        Description = "ID to include in log output, to tie several commands to one task",
        HelpName = "TASKID",
        Recursive = true,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(BackupDir);
        command.Options.Add(LogFile);
        command.Options.Add(Verbose);
        command.Options.Add(TaskId);
    }
}

namespace Backy.Storage;

/// <summary>
/// The root of Backy's own errors. The message is what an operator reads on one line:
/// it names the thing and the reason ("cannot read source '/srv/img': permission denied").
/// The CLI maps these to exit status 1 without a stack trace (unless -v).
/// </summary>
public class BackyException : Exception
{
    public BackyException(string message) : base(message) { }
    public BackyException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A configuration value (job config, schedule, daemon config) is invalid.</summary>
public class ConfigException : BackyException
{
    public ConfigException(string message) : base(message) { }
    public ConfigException(string message, Exception inner) : base(message, inner) { }
}

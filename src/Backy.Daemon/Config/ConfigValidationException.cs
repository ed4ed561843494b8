using Backy.Storage;

namespace Backy.Daemon.Config;

/// <summary>The configuration has one or more mistakes. Carries all of them (YARP's ConfigValidator
/// style): an operator fixes a file once, not once per error.</summary>
public sealed class ConfigValidationException : ConfigException
{
    public string ConfigPath { get; }
    public IReadOnlyList<ConfigError> Errors { get; }

    public ConfigValidationException(string source, IReadOnlyList<ConfigError> errors)
        : base($"invalid configuration {source} ({errors.Count} error{(errors.Count == 1 ? "" : "s")}):"
               + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e.Format(source))))
    {
        ConfigPath = source;
        Errors = errors;
    }
}

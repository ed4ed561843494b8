namespace Backy.Storage.Images;

/// <summary>A revision's <c>backend_type</c> names no format this version can read: its data is kept, never judged.</summary>
public sealed class UnknownFormatException(string revision, string backendType)
    : BackyException($"revision {revision} has backend_type '{backendType}', a format this version cannot read");

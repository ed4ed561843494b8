namespace Backy.Storage.Legacy;

/// <summary>A legacy revision's old data cannot be read correctly: the revision stays as it is.</summary>
public sealed class LegacyDataException : BackyException
{
    public LegacyDataException(string message, Exception inner) : base(message, inner) { }
}

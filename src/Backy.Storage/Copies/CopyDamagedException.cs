namespace Backy.Storage.Copies;

/// <summary>An object of an off-site copy that is missing, malformed, fails its checks or cannot be decrypted.</summary>
public sealed class CopyDamagedException(string objectName, string reason)
    : BackyException($"copy object '{objectName}' {reason}")
{
    public string ObjectName { get; } = objectName;
    public string Reason { get; } = reason;
}

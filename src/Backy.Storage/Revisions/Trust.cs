namespace Backy.Storage.Revisions;

/// <summary>Trust state of a revision, written lowercase in the .rev file.</summary>
public enum Trust
{
    /// <summary>New revisions: nothing is known against them.</summary>
    Trusted,
    /// <summary>Possibly damaged: backups run in forced-write mode until it is verified or gone.</summary>
    Distrusted,
    /// <summary>Every chunk was read back and hashed at some point.</summary>
    Verified,
}

public static class TrustNames
{
    public static string ToText(this Trust trust) => trust switch
    {
        Trust.Trusted => "trusted",
        Trust.Distrusted => "distrusted",
        Trust.Verified => "verified",
        _ => throw new ArgumentOutOfRangeException(nameof(trust)),
    };

    public static Trust Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "trusted" => Trust.Trusted,
        "distrusted" => Trust.Distrusted,
        "verified" => Trust.Verified,
        _ => throw new BackyException($"unknown trust state '{text}' (expected trusted, distrusted or verified)"),
    };
}

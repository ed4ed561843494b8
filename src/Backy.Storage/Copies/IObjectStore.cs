namespace Backy.Storage.Copies;

/// <summary>
/// The seam between a copy and the object store it lives in (S3, RGW, ...): flat keys, whole objects,
/// no locks and no rename. Everything the copy promises (nothing half-visible, resumable, safe purge) is
/// built on these calls alone; see the Storage README, "Off-site copies". Implementations are
/// thread-safe: calls run in parallel.
/// </summary>
public interface IObjectStore
{
    /// <summary>A name for messages (<c>s3://bucket/</c>), never a secret.</summary>
    string Describe(string key);

    /// <summary>
    /// Stores <paramref name="content"/> under <paramref name="key"/>, replacing what was there, with its
    /// checksum sent along so that the store rejects a damaged upload. <paramref name="lockUntil"/>: keep the
    /// object undeletable until then (S3 Object Lock, compliance mode), or null.
    /// </summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> content, DateTimeOffset? lockUntil, CancellationToken cancellationToken);

    /// <summary>The whole object, or null when there is none under <paramref name="key"/>.</summary>
    Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the object into <paramref name="destination"/> (bounded memory for chunks) and returns its length,
    /// or null when there is none. An object larger than the buffer is an error naming it. For content the caller
    /// checks itself (chunks): an implementation may skip the transport's own check of the body.
    /// </summary>
    Task<int?> GetIntoAsync(string key, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>
    /// Every object whose key starts with <paramref name="prefix"/>; with <paramref name="recursive"/> false
    /// only those with no further '/' after the prefix.
    /// </summary>
    IAsyncEnumerable<StoredObject> ListAsync(string prefix, bool recursive, CancellationToken cancellationToken);

    /// <summary>Until when the object is locked (S3 Object Lock retention of its current version), or null when it is not.</summary>
    Task<DateTimeOffset?> GetRetentionAsync(string key, CancellationToken cancellationToken);

    /// <summary>Locks the object (its current version) until <paramref name="until"/>, compliance mode; the store
    /// refuses to shorten a lock, so callers only ever extend one.</summary>
    Task ExtendRetentionAsync(string key, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Removes the object (no error when it is already gone). Refused by the store while it is locked.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);
}

/// <summary>One entry of a listing.</summary>
public sealed record StoredObject(string Key, long Size, DateTimeOffset LastModified);

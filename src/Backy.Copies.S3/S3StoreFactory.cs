using Backy.Storage;
using Backy.Storage.Copies;

namespace Backy.Copies.S3;

/// <summary>Opens the store of a <see cref="CopyTarget"/> of type s3.</summary>
public sealed class S3StoreFactory : ICopyStoreFactory
{
    public static readonly S3StoreFactory Instance = new();

    public IObjectStore Open(CopyTarget target)
    {
        if (target.Type != CopyTarget.TypeS3) throw new ConfigException($"copies.{target.Name}.type: unknown copy type '{target.Type}' (known: s3)");
        var access = target.AccessKey ?? throw new ConfigException($"copies.{target.Name}.access-key: missing");
        var secret = target.ResolveSecretKey() ?? throw new ConfigException($"copies.{target.Name}.secret-key-file: missing");
        return new S3ObjectStore(target.Endpoint, target.Region, access, secret, target.Bucket);
    }
}

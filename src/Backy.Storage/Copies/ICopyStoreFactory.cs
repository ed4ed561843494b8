namespace Backy.Storage.Copies;

/// <summary>Opens the object store a <see cref="CopyTarget"/> names (its <c>type</c>). The S3 one lives in
/// Backy.Copies.S3, so that Storage knows no client library.</summary>
public interface ICopyStoreFactory
{
    IObjectStore Open(CopyTarget target);
}

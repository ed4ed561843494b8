using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Backy.Storage;
using Backy.Storage.Copies;

namespace Backy.Copies.S3;

/// <summary>
/// <see cref="IObjectStore"/> on S3 (AWS, Ceph RGW, any S3-compatible store) through AWSSDK.S3, path-style.
/// Every PUT carries a checksum of its body that the store verifies, so it rejects an object damaged on the way:
/// over HTTPS Content-MD5 with the body sent as UNSIGNED-PAYLOAD; over plain http the SigV4 signature's payload hash
/// (x-amz-content-sha256, which the store must recompute to check the signature; SHA-256 runs at twice MD5's speed with
/// SHA extensions, and a second pass with MD5 would check the same bytes again). The SDK's newer default checksums
/// (CRC trailers in aws-chunked bodies) are switched to "when required", because RGW 16 and other S3-compatible
/// stores reject or ignore them. Errors become one <see cref="BackyException"/> line naming the object and the
/// store's reason; the secret never appears in one.
/// </summary>
public sealed class S3ObjectStore : IObjectStore, IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly bool _https;

    public string Bucket { get; }
    public IAmazonS3 Client => _client;

    public S3ObjectStore(string? endpoint, string region, string accessKey, string secretKey, string bucket)
        : this(endpoint, region, accessKey, secretKey, bucket, null) { }

    /// <param name="wrapHandler">Tests only: wraps the HTTP handler (to damage bodies on the way).</param>
    internal S3ObjectStore(string? endpoint, string region, string accessKey, string secretKey, string bucket,
        Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler)
    {
        Bucket = bucket;
        var config = new AmazonS3Config
        {
            ForcePathStyle = true,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            // Connections, timeouts and Expect: 100-continue are ours (S3HttpClientFactory); with an idle timeout
            // of 10 s and the SDK's two retries, a store that never answers fails a request in ~30 s.
            HttpClientFactory = new S3HttpClientFactory(endpoint ?? "s3." + region + ".amazonaws.com", wrapHandler),
            MaxErrorRetry = 2,
            // The SDK copies a PUT body to the connection through this buffer (8 KiB by default: ~340 writes and
            // socket sends per chunk object); a chunk object goes in a few writes with 256 KiB.
            BufferSize = 256 << 10,
        };
        _https = endpoint is null || endpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint;
            config.AuthenticationRegion = region;
        }
        else
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        _client = new AmazonS3Client(new BasicAWSCredentials(accessKey, secretKey), config);
    }

    public string Describe(string key) => $"s3://{Bucket}/{key}";

    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, DateTimeOffset? lockUntil, CancellationToken cancellationToken)
    {
        var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(content, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);
        var request = new PutObjectRequest
        {
            BucketName = Bucket,
            Key = key,
            InputStream = stream,
            // Over http the signed payload hash is the checksum the store checks (see the class comment); S3 demands
            // Content-MD5 (or a checksum header) on every PUT with Object Lock parameters, so those carry it anyway.
            MD5Digest = _https || lockUntil is not null ? Convert.ToBase64String(MD5.HashData(content.Span)) : null,
            UseChunkEncoding = false,
            // Over HTTPS, UNSIGNED-PAYLOAD: the signature covers the headers (Content-MD5 among them) but not a
            // SHA-256 of the body, which the SDK would compute and the store compute again to check it: a pass over
            // every byte on each side for an integrity check that Content-MD5 (and TLS) already give. The SDK refuses
            // it over plain http ("the request must be sent over HTTPS"), so there the payload stays signed.
            DisablePayloadSigning = _https,
            AutoCloseStream = true,
        };
        if (lockUntil is { } until)
        {
            request.ObjectLockMode = ObjectLockMode.Compliance;
            request.ObjectLockRetainUntilDate = until.UtcDateTime;
        }
        await Call("PUT", key, () => _client.PutObjectAsync(request, cancellationToken)).ConfigureAwait(false);
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        using var response = await Get(key, cancellationToken).ConfigureAwait(false);
        if (response is null) return null;
        var length = response.ContentLength;
        using var buffer = new MemoryStream(length > 0 && length < int.MaxValue ? (int)length : 0);
        await Call("GET", key, () => response.ResponseStream.CopyToAsync(buffer, cancellationToken)).ConfigureAwait(false);
        return buffer.ToArray();
    }

    public async Task<int?> GetIntoAsync(string key, Memory<byte> destination, CancellationToken cancellationToken)
    {
        using var response = await Get(key, cancellationToken).ConfigureAwait(false);
        if (response is null) return null;
        if (response.ContentLength > destination.Length)
            throw new BackyException($"{Describe(key)} is too large ({response.ContentLength} bytes, at most {destination.Length} expected)");
        // The SDK wraps the body of a GetObject in an MD5 stream that checks it against the ETag, with its own managed
        // MD5: a quarter of a restore's CPU. Chunk readers check more than that themselves (every chunk decodes and
        // hashes to its id, an encrypted one authenticates), so they read the body beneath it.
        var body = response.ResponseStream is Amazon.Runtime.Internal.Util.WrapperStream wrapper
            ? wrapper.GetNonWrapperBaseStream() : response.ResponseStream;
        return await Call("GET", key, async () =>
        {
            var read = 0;
            while (true)
            {
                if (read == destination.Length)
                {
                    // Exactly full: anything more means the object is larger than it claimed.
                    if (await body.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) > 0)
                        throw new BackyException($"{Describe(key)} is larger than {destination.Length} bytes");
                    return read;
                }
                var n = await body.ReadAsync(destination[read..], cancellationToken).ConfigureAwait(false);
                if (n == 0) return read;
                read += n;
            }
        }).ConfigureAwait(false);
    }

    private async Task<GetObjectResponse?> Get(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket")
        {
            return null;
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
        {
            throw Failure("GET", key, e);
        }
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, bool recursive, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix, Delimiter = recursive ? null : "/", MaxKeys = 1000 };
        while (true)
        {
            var response = await Call("LIST", prefix, () => _client.ListObjectsV2Async(request, cancellationToken)).ConfigureAwait(false);
            foreach (var o in response.S3Objects ?? [])
                yield return new StoredObject(o.Key, o.Size ?? 0, o.LastModified is { } t ? new DateTimeOffset(t.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.MinValue);
            if (response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken)) yield break;
            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    public async Task<DateTimeOffset?> GetRetentionAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectRetentionAsync(new GetObjectRetentionRequest { BucketName = Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            return response.Retention?.RetainUntilDate is { } until ? new DateTimeOffset(until.ToUniversalTime(), TimeSpan.Zero) : null;
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "NoSuchObjectLockConfiguration" || e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket")
        {
            return null; // no retention on the object (or none on the bucket)
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
        {
            throw Failure("GET retention of", key, e);
        }
    }

    public Task ExtendRetentionAsync(string key, DateTimeOffset until, CancellationToken cancellationToken) =>
        Call("PUT retention of", key, () => _client.PutObjectRetentionAsync(new PutObjectRetentionRequest
        {
            BucketName = Bucket,
            Key = key,
            Retention = new ObjectLockRetention { Mode = ObjectLockRetentionMode.Compliance, RetainUntilDate = until.UtcDateTime },
        }, cancellationToken));

    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        Call("DELETE", key, () => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key }, cancellationToken));

    private async Task<T> Call<T>(string verb, string key, Func<Task<T>> call)
    {
        try { return await call().ConfigureAwait(false); }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
        {
            throw Failure(verb, key, e);
        }
    }

    private Task Call(string verb, string key, Func<Task> call) => Call(verb, key, async () => { await call().ConfigureAwait(false); return 0; });

    private BackyException Failure(string verb, string key, Exception e)
    {
        var reason = e switch
        {
            _ when Timeout(e) is { } timeout => timeout.Message,
            AmazonS3Exception s3 => $"{(int)s3.StatusCode} {s3.ErrorCode}{(string.IsNullOrEmpty(s3.Message) ? "" : ": " + s3.Message)}",
            _ => e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message,
        };
        return new BackyException($"{verb} {Describe(key)} failed - {reason}", e);
    }

    private static S3TimeoutException? Timeout(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is S3TimeoutException t) return t;
        return null;
    }

    public void Dispose() => _client.Dispose();
}

using System.Diagnostics;
using Backy.Copies.S3;
using Backy.Storage;
using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Copies;

/// <summary>
/// The S3 store's transport against the real RGW: the store refuses a body damaged on the way (the checksum each PUT
/// sends), and an endpoint that accepts connections and never answers fails a copy in well under a minute with a
/// message naming it, instead of holding it for the SDK's timeouts.
/// </summary>
[Category("Ceph")]
public class S3StoreTests
{
    [Test, CancelAfter(120_000)]
    public async Task A_body_damaged_after_its_checksum_was_taken_is_refused_by_the_store(CancellationToken ct)
    {
        var bucket = await RgwFixture.NewBucketAsync(ct);
        using var store = new S3ObjectStore(RgwFixture.Endpoint, "default", RgwFixture.AccessKey, RgwFixture.SecretKey, bucket,
            inner => new DamagingHandler(inner));
        var body = new byte[1 << 20];
        new Random(5).NextBytes(body);

        var e = await Assert.ThrowsAsync<BackyException>(() => store.PutAsync("job/chunks/aa/damaged", body, null, ct));
        Assert.That(e!.Message, Does.StartWith($"PUT s3://{bucket}/job/chunks/aa/damaged failed - 400 "), e.Message);
        using var clean = RgwFixture.Store(bucket);
        Assert.That(await clean.GetAsync("job/chunks/aa/damaged", ct), Is.Null, "nothing was stored");

        // The same body undamaged goes in and reads back (the damage, not the request, was refused).
        await clean.PutAsync("job/chunks/aa/damaged", body, null, ct);
        Assert.That(await clean.GetAsync("job/chunks/aa/damaged", ct), Is.EqualTo(body));
    }

    [Test, CancelAfter(180_000)]
    public async Task An_endpoint_that_accepts_connections_and_never_answers_fails_the_copy_naming_it(CancellationToken ct)
    {
        using var silent = new SilentListener();
        using var job = new TestJob();
        File.AppendAllText(Path.Combine(job.JobPath, "config"),
            $"copies:\n  offsite: {{type: s3, endpoint: \"{silent.Endpoint}\", bucket: silent, region: default, access-key: a, secret-key: s}}\n");
        TestImages.WriteMixed(job.ImagePath, 2L * Blocks.Size, seed: 8);
        var backup = await WorkerProcess.RunAsync(job.JobPath, ct, "backup", "daily");
        Assert.That(backup.ExitCode, Is.Zero, backup.StdErr);

        var clock = Stopwatch.StartNew();
        var copy = await WorkerProcess.RunAsync(job.JobPath, ct, "copy");
        clock.Stop();
        Assert.That(copy.ExitCode, Is.Not.Zero);
        Assert.That(copy.StdErr, Does.Contain($"{silent.Endpoint} has not answered for 10 s"), copy.StdErr);
        Assert.That(silent.Accepted, Is.GreaterThanOrEqualTo(1), "the copy did reach the listener");
        // 10 s of silence per attempt, 3 attempts; the SDK's defaults held it for 2 min per attempt. Generous for a
        // loaded machine: the bound only has to tell ~30 s from several minutes.
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(90)), $"took {clock.Elapsed}");
        Assert.That(job.Job.CompleteRevisions(), Has.Count.EqualTo(1), "the backup is untouched");
    }

    /// <summary>Flips one byte of every PUT body after the SDK signed the request (and took its checksums).</summary>
    private sealed class DamagingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Put && request.Content is { } content)
            {
                var bytes = await content.ReadAsByteArrayAsync(cancellationToken);
                bytes[bytes.Length / 2] ^= 0x40;
                var damaged = new ByteArrayContent(bytes);
                foreach (var h in content.Headers) damaged.Headers.TryAddWithoutValidation(h.Key, h.Value);
                request.Content = damaged;
            }
            return await base.SendAsync(request, cancellationToken);
        }
    }
}

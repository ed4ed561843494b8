using System.Security.Cryptography;
using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Copies;

[Category("Ceph")]
public class CopyEncryptionTests
{
    [Test, CancelAfter(300_000)]
    public async Task An_encrypted_copy_restores_with_its_key_hides_chunk_hashes_and_refuses_a_wrong_key(CancellationToken ct)
    {
        var keyFile = Path.Combine(Path.GetTempPath(), "backy-key-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllText(keyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var wrongKey = keyFile + ".wrong";
        File.WriteAllBytes(wrongKey, RandomNumberGenerator.GetBytes(32));
        try
        {
            using var job = await CopyJob.CreateAsync(ct, $"    encryption-key-file: {keyFile}\n");
            TestImages.WriteMixed(job.Local.ImagePath, 4L * Blocks.Size + 999, seed: 12);
            Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
            var sha = TestJob.Sha(job.Local.ImagePath);
            var copy = await job.Worker(ct, "copy");
            Assert.That(copy.ExitCode, Is.Zero, copy.StdErr);

            // No object name, and no object's bytes, gives away a chunk id of the plain data.
            var localIds = job.Local.Job.Chunks.EnumerateChunks().Select(c => c.Id.ToString()).ToList();
            var keys = await job.KeysAsync(ct);
            Assert.That(keys.Count(k => k.StartsWith("chunks/", StringComparison.Ordinal)), Is.EqualTo(localIds.Count));
            foreach (var id in localIds) Assert.That(keys.Any(k => k.Contains(id)), Is.False, $"chunk {id} named in the bucket");
            var revObject = (await job.Store.GetAsync(job.Prefix + "job/" + keys.Single(k => k.EndsWith(".rev", StringComparison.Ordinal)), ct))!;
            Assert.That(System.Text.Encoding.UTF8.GetString(revObject), Does.Not.Contain("daily"), ".rev is encrypted");

            Directory.Delete(job.JobPath, recursive: true);
            var target = job.Local.PathIn("restored");
            var ok = await CopyJob.FromAsync(ct, new Dictionary<string, string?> { ["BACKY_ENCRYPTION_KEY_FILE"] = keyFile }, "restore", "--from", job.Url, target);
            Assert.That(ok.ExitCode, Is.Zero, ok.StdErr);
            Assert.That(TestJob.Sha(target), Is.EqualTo(sha));

            var wrong = await CopyJob.FromAsync(ct, new Dictionary<string, string?> { ["BACKY_ENCRYPTION_KEY_FILE"] = wrongKey }, "restore", "--from", job.Url, job.Local.PathIn("w"));
            Assert.That(wrong.ExitCode, Is.EqualTo(1));
            Assert.That(wrong.StdErr.Trim().Split('\n'), Has.Length.EqualTo(1), "one clear error");
            Assert.That(wrong.StdErr, Does.Contain("wrong encryption key"));
            Assert.That(File.Exists(job.Local.PathIn("w")), Is.False);

            var none = await CopyJob.FromAsync(ct, null, "status", "--from", job.Url);
            Assert.That(none.ExitCode, Is.EqualTo(1));
            Assert.That(none.StdErr, Does.Contain("is encrypted"));
        }
        finally
        {
            File.Delete(keyFile);
            File.Delete(wrongKey);
        }
    }

    [Test, CancelAfter(300_000)]
    public async Task An_encrypted_chunk_moved_to_another_name_fails_authentication(CancellationToken ct)
    {
        var keyFile = Path.Combine(Path.GetTempPath(), "backy-key-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllBytes(keyFile, RandomNumberGenerator.GetBytes(32));
        try
        {
            using var job = await CopyJob.CreateAsync(ct, $"    encryption-key-file: {keyFile}\n");
            TestImages.WriteMixed(job.Local.ImagePath, 3L * Blocks.Size, seed: 13);
            Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
            Assert.That((await job.Worker(ct, "copy")).ExitCode, Is.Zero);
            var chunks = (await job.KeysAsync(ct, "chunks/")).Order(StringComparer.Ordinal).ToList();
            Assume.That(chunks, Has.Count.GreaterThanOrEqualTo(2));
            // Swap two chunk objects: each is intact and authentic, but not under its own name.
            var a = (await job.Store.GetAsync(job.Prefix + "job/" + chunks[0], ct))!;
            var b = (await job.Store.GetAsync(job.Prefix + "job/" + chunks[1], ct))!;
            await job.Store.PutAsync(job.Prefix + "job/" + chunks[0], b, null, ct);
            await job.Store.PutAsync(job.Prefix + "job/" + chunks[1], a, null, ct);

            var verify = await CopyJob.FromAsync(ct, new Dictionary<string, string?> { ["BACKY_ENCRYPTION_KEY_FILE"] = keyFile }, "verify", "--from", job.Url);
            Assert.That(verify.ExitCode, Is.EqualTo(1));
            Assert.That(verify.StdErr, Does.Contain("fails authentication"));
        }
        finally { File.Delete(keyFile); }
    }
}

using Backy.Storage;
using Backy.Storage.Backup;
using Backy.Storage.Chunks;
using Backy.Storage.Jobs;
using Backy.Storage.Restore;
using Backy.Storage.Revisions;
using Backy.Tests.Api;
using Backy.Tests.Storage.Support;
using Microsoft.Extensions.Logging;

namespace Backy.Tests.Reliability;

/// <summary>
/// A restore that finds a bad chunk distrusts every revision through the job's <see cref="RevisionStore"/>: it waits
/// for the <c>.backup</c> lock (bounded, and says so in the log) instead of writing beside its holder.
/// </summary>
public class RestoreDistrustTests
{
    sealed class Fixture : LoggedTestJob
    {
        public Revision A = null!, B = null!;

        public async Task CreateWithCorruptChunkAsync()
        {
            var image = new byte[Blocks.Size + 4096];
            new Random(3).NextBytes(image);
            var engine = new BackupEngine(Job, Logger, TimeProvider.System, new BackupSettings(2));
            A = await engine.BackupAsync(new MemorySource { Image = image }, ["daily"], CancellationToken.None);
            B = await engine.BackupAsync(new MemorySource { Image = image }, ["daily"], CancellationToken.None);
            var path = Job.Chunks.PathOf(Job.ReadChunkMap(B).Entries[0]);
            new FileInfo(path).IsReadOnly = false;
            var bytes = File.ReadAllBytes(path);
            bytes[^1] ^= 1;
            File.WriteAllBytes(path, bytes);
        }

        public Task RestoreAsync(TimeSpan wait) =>
            new RestoreEngine(Job, Logger) { DistrustWait = wait }.RestoreToStreamAsync(B, new MemoryStream(), CancellationToken.None);

    }

    [Test, CancelAfter(60_000)]
    public async Task A_restore_waits_for_a_held_lock_and_then_distrusts_every_revision()
    {
        using var f = new Fixture();
        await f.CreateWithCorruptChunkAsync();
        var holder = RevisionStore.Open(f.Job, "hold", f.Logger);
        var restore = f.RestoreAsync(TimeSpan.FromMinutes(1));
        while (!f.Log.Lines.Any(l => l.Contains("waiting up to 60 s for the backup lock", StringComparison.Ordinal)))
            await Task.Delay(20);
        Assert.That(f.Job.CompleteRevisions().Select(r => r.Trust), Is.All.EqualTo(Trust.Trusted), "nothing written beside the holder");

        holder.Dispose();
        var e = await Assert.ThrowsAsync<BackyException>(() => restore);

        Assert.That(e!.Message, Does.Contain("cannot restore block 0").And.Contain("all revisions are now distrusted"));
        Assert.That(f.Job.CompleteRevisions().Select(r => r.Trust), Is.All.EqualTo(Trust.Distrusted));
    }

    [Test, CancelAfter(60_000)]
    public async Task A_lock_held_past_the_bound_is_said_and_nothing_is_written()
    {
        using var f = new Fixture();
        await f.CreateWithCorruptChunkAsync();
        using var holder = RevisionStore.Open(f.Job, "hold", f.Logger);

        var e = await Assert.ThrowsAsync<BackyException>(() => f.RestoreAsync(TimeSpan.FromMilliseconds(300)));

        Assert.That(e!.Message, Does.Contain("cannot restore block 0").And.Contain("could NOT be distrusted"));
        Assert.That(f.Log.Lines, Has.Some.Contains("were NOT distrusted"));
        Assert.That(f.Job.CompleteRevisions().Select(r => r.Trust), Is.All.EqualTo(Trust.Trusted));
    }
}

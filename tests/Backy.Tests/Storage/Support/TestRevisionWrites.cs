using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging.Abstractions;

// In JobDirectory's namespace so that test code reads as before the single writer: the product writes and removes
// .rev files only through RevisionStore (Architecture/RevisionWriterTests); tests arranging a job do the same here,
// lock included, so an arranged write can never slip past a running command either.
namespace Backy.Storage.Jobs;

public static class TestRevisionWrites
{
    /// <summary>Writes a revision through the job's <see cref="RevisionStore"/> (takes and releases the backup lock).</summary>
    public static void WriteRevision(this JobDirectory job, Revision revision)
    {
        using var store = RevisionStore.Open(job, "write a test revision of", NullLogger.Instance);
        store.Write(revision);
    }

    /// <summary>Removes a revision through the job's <see cref="RevisionStore"/>, as forget does.</summary>
    public static void RemoveRevision(this JobDirectory job, string id)
    {
        using var store = RevisionStore.Open(job, "remove a test revision of", NullLogger.Instance);
        store.Remove(id);
    }
}

using Backy.Storage.Revisions;

namespace Backy.Storage.Jobs;

/// <summary>What listing a job's <c>.rev</c> files found: the readable revisions (oldest first) and the damaged files.</summary>
public sealed record RevisionScan(IReadOnlyList<Revision> Revisions, IReadOnlyList<DamagedRevision> Damaged);

/// <summary>A <c>.rev</c> file that cannot be read or parsed.</summary>
/// <param name="Id">The revision id taken from the file name (its chunk map has the same name).</param>
/// <param name="RevisionPath">The <c>.rev</c> file.</param>
/// <param name="Reason">One line naming the file and what is wrong with it.</param>
/// <param name="Unreadable">The file system refused to read it (an I/O error, a permission), rather than its
/// content being wrong: it may read again, and repairing it is not the remedy.</param>
public sealed record DamagedRevision(string Id, string RevisionPath, string Reason, bool Unreadable = false);

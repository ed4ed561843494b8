using Backy.Storage;
using Backy.Storage.Editing;
using Backy.Storage.Jobs;
using Backy.Storage.Locks;
using Backy.Storage.Reading;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;

namespace Backy.Worker.Nbd;

/// <summary>
/// The job's revisions as exports: every complete local revision (ours, or still in the original's format), named by its id; a name that is a
/// revision spec (latest, 0, 1, a tag) resolves like <c>-r</c>, the empty name is the newest. The revision list
/// is read from disk on every lookup, so a backup made while the server runs is served at once. An export, once
/// opened, stays open (pinned) until the server stops, even when forget or expire removes its revision.
/// </summary>
internal sealed class NbdExports : IDisposable
{
    private readonly JobDirectory _job;
    private readonly BlockCache _cache;
    private readonly string? _overlayDirectory;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, NbdExport> _open = new(StringComparer.Ordinal);
    private readonly HashSet<string> _distrustedFor = new(StringComparer.Ordinal);

    /// <param name="overlayDirectory">Where writable exports keep their overlay; null for read-only exports.</param>
    public NbdExports(JobDirectory job, BlockCache cache, string? overlayDirectory, ILogger logger)
    {
        _job = job;
        _cache = cache;
        _overlayDirectory = overlayDirectory;
        _logger = logger;
    }

    public bool Writable => _overlayDirectory is not null;

    /// <summary>What NBD_OPT_LIST shows: the servable revisions, oldest first.</summary>
    public IReadOnlyList<Revision> List() =>
        _job.CompleteRevisions().Where(r => r.IsLocal).ToList();

    /// <summary>The export for a client's name, opening it on first use; throws <see cref="BackyException"/> with a reason for the client.</summary>
    public async Task<NbdExport> OpenAsync(string name, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // An open export stays reachable by its id after its revision was removed: a client reconnecting
            // (nbdcopy opens several connections) must find what it was reading.
            if (_open.TryGetValue(name, out var byId)) return byId;
            var revision = _job.Resolve(name.Length == 0 ? null : name, _job.CompleteRevisions());
            if (_open.TryGetValue(revision.Id, out var existing)) return existing;
            var reader = await RevisionReader.OpenAsync(_job, revision, _cache, cancellationToken).ConfigureAwait(false);
            reader.ReadFailed += OnReadFailed;
            CowOverlay? overlay = null;
            try
            {
                if (_overlayDirectory is not null) overlay = new CowOverlay(_overlayDirectory, reader.Size);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                reader.Dispose();
                throw new BackyException($"cannot create the copy-on-write overlay in '{_overlayDirectory}': {e.Message}", e);
            }
            var export = new NbdExport(reader, overlay);
            _open.Add(revision.Id, export);
            _logger.ExportOpened(revision.Id, reader.Size, overlay is not null);
            return export;
        }
        finally { _gate.Release(); }
    }

    /// <summary>A corrupt or missing chunk: log block and chunk, and distrust every local revision, as restore does.</summary>
    private void OnReadFailed(RevisionReadException e)
    {
        _logger.ReadFailed(e.Revision, e.Block, e.Offset, e.Chunk.ToString(), e.InnerException?.Message ?? e.Message);
        lock (_distrustedFor)
            if (!_distrustedFor.Add(e.Chunk.ToString())) return;
        try
        {
            var distrusted = new RevisionEditor(_job, TimeProvider.System, _logger).Distrust(DateRange.All);
            _logger.DistrustedAfterReadError(distrusted.Count);
        }
        catch (JobLockedException locked)
        {
            // A backup or edit holds the job; the next read of this chunk tries again.
            lock (_distrustedFor) _distrustedFor.Remove(e.Chunk.ToString());
            _logger.DistrustDeferred(locked.Message);
        }
        catch (Exception x) when (x is BackyException or IOException or UnauthorizedAccessException)
        {
            _logger.DistrustDeferred(x.Message);
        }
    }

    public void Dispose()
    {
        foreach (var e in _open.Values) e.Dispose();
        _open.Clear();
        _gate.Dispose();
    }
}

using Backy.Storage.Locks;
using Backy.Storage.Revisions;

namespace Backy.Storage.Legacy;

/// <summary>
/// How many legacy (chunked) revisions use each old chunk file. An old chunk is deleted only when no
/// revision still in the old format uses it. When some legacy chunk map cannot be read, nothing is
/// known for sure and nothing is deleted (<see cref="IsComplete"/> is false). Chunks of a legacy revision that
/// nbd-server serves (a live <see cref="RevisionPin"/>) are kept too, even after that revision was converted or
/// removed: <see cref="RefreshPins"/> before deleting, under the exclusive purge lock.
/// </summary>
public sealed class LegacyReferences
{
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private HashSet<string> _pinned = new(StringComparer.Ordinal);
    private bool _pinsUnreadable;

    public bool IsComplete
    {
        get => _complete && !_pinsUnreadable;
        private set => _complete = value;
    }
    private bool _complete = true;

    /// <summary>
    /// Reads the live pins on legacy chunked revisions again (a server may have opened or closed one since).
    /// Only under the exclusive purge lock, so that no pin is taken between this and the deletes it allows.
    /// An unreadable pin makes the references incomplete until the next refresh: nothing is deleted.
    /// </summary>
    public void RefreshPins(string jobDirectory)
    {
        var pinned = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var path in RevisionPin.LiveLegacyChunkedUnderExclusivePurgeLock(jobDirectory))
                pinned.UnionWith(LegacyChunkMap.Read(path).Hashes());
            _pinsUnreadable = false;
        }
        catch (Exception e) when (e is BackyException or IOException)
        {
            _pinsUnreadable = true;
        }
        _pinned = pinned;
    }

    public static LegacyReferences Build(string jobDirectory, IEnumerable<Revision> history)
    {
        var refs = new LegacyReferences();
        foreach (var rev in history.Where(r => r.BackendType == LegacyFormat.Chunked))
        {
            var data = LegacyFormat.DataPath(jobDirectory, rev.Id);
            if (!File.Exists(data)) continue; // metadata only (a peer's revision): references nothing here
            try
            {
                refs.Add(LegacyChunkMap.Read(data).Hashes());
            }
            catch (BackyException)
            {
                refs.IsComplete = false;
            }
        }
        return refs;
    }

    public void Add(IEnumerable<string> hashes)
    {
        foreach (var h in hashes)
            _counts[h] = _counts.GetValueOrDefault(h) + 1;
    }

    /// <summary>Drops one revision's references; returns the hashes nobody uses any more.</summary>
    public List<string> Release(IEnumerable<string> hashes)
    {
        var unused = new List<string>();
        foreach (var h in hashes)
        {
            var n = _counts.GetValueOrDefault(h) - 1;
            if (n > 0)
            {
                _counts[h] = n;
            }
            else
            {
                _counts.Remove(h);
                unused.Add(h);
            }
        }
        return IsComplete ? unused.Where(h => !_pinned.Contains(h)).ToList() : [];
    }

    public bool IsUsed(string hash) => !IsComplete || _counts.ContainsKey(hash) || _pinned.Contains(hash);
}

using Backy.Storage.Revisions;

namespace Backy.Storage.Legacy;

/// <summary>
/// How many legacy (chunked) revisions use each old chunk file. An old chunk is deleted only when no
/// revision still in the old format uses it. When some legacy chunk map cannot be read, nothing is
/// known for sure and nothing is deleted (<see cref="IsComplete"/> is false).
/// </summary>
public sealed class LegacyReferences
{
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    public bool IsComplete { get; private set; } = true;

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
        return IsComplete ? unused : [];
    }

    public bool IsUsed(string hash) => !IsComplete || _counts.ContainsKey(hash);
}

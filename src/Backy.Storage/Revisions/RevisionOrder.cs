namespace Backy.Storage.Revisions;

/// <summary>Revisions are ordered by timestamp; the id breaks ties so that the order is total and stable.</summary>
public static class RevisionOrder
{
    public static int Compare(Revision? a, Revision? b)
    {
        if (ReferenceEquals(a, b)) return 0;
        if (a is null) return -1;
        if (b is null) return 1;
        var c = a.Timestamp.CompareTo(b.Timestamp);
        return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
    }
}

namespace Backy.Sources.Ceph;

/// <summary>One snapshot of an image (<c>rbd_snap_list</c>; what <c>rbd snap ls</c> shows).</summary>
public sealed record RbdSnapshot(long Id, string Name, long Size);

namespace Backy.Sources.Ceph;

/// <summary>One entry of <c>rbd snap ls --format json</c>.</summary>
public sealed record RbdSnapshot(long Id, string Name, long Size);

/// <summary>What Backy needs from <c>rbd info --format json</c>.</summary>
public sealed record RbdImageInfo(string Name, long Size, int ObjectOrder);

namespace Backy.Tests.Legacy;

/// <summary>Compares images of many MiB quickly (NUnit's collection equality walks them element by element).</summary>
internal static class Bytes
{
    public static void AssertSame(byte[] actual, byte[] expected, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        var at = actual.AsSpan().CommonPrefixLength(expected);
        Assert.That(at, Is.EqualTo(expected.Length), $"{what}: first difference at byte {at}");
    }
}

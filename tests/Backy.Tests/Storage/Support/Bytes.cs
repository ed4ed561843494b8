namespace Backy.Tests.Storage.Support;

/// <summary>Compares large byte arrays quickly (NUnit's collection equality boxes every element).</summary>
public static class Bytes
{
    public static void AssertSame(byte[] expected, byte[] actual, string what)
    {
        Assert.That(actual.LongLength, Is.EqualTo(expected.LongLength), $"{what}: length");
        var diff = expected.AsSpan().CommonPrefixLength(actual);
        Assert.That(diff, Is.EqualTo(expected.Length), $"{what}: first difference at offset {diff}");
    }
}

using System.Numerics;
using System.Security.Cryptography;

namespace Backy.Storage.Revisions;

/// <summary>
/// Revision ids as the original makes them (shortuuid): a random UUID written in base 57, most
/// significant digit first, padded to 22 characters. Frozen: ids name files on disk.
/// </summary>
public static class RevisionId
{
    /// <summary>Frozen: shortuuid's alphabet (no 0, 1, I, O, l).</summary>
    public const string Alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    public const int Length = 22;

    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40); // UUID version 4
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        var number = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        Span<char> chars = stackalloc char[Length];
        for (var i = Length - 1; i >= 0; i--)
        {
            number = BigInteger.DivRem(number, Alphabet.Length, out var digit);
            chars[i] = Alphabet[(int)digit];
        }
        return new string(chars);
    }

    public static bool IsValid(string id) =>
        id.Length == Length && id.All(c => Alphabet.Contains(c));
}

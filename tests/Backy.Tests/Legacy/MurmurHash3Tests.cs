using System.Numerics;
using System.Text;
using Backy.Storage.Legacy;

namespace Backy.Tests.Legacy;

public class MurmurHash3Tests
{
    [Test]
    public void Foo_matches_the_mmh3_documentation()
    {
        // mmh3 docs: hash_bytes('foo') == b'aE\xf5\x01W\x86q\xe2\x87}\xba+\xe4\x87\xaf~'
        Assert.That(MurmurHash3.HexDigest("foo"u8), Is.EqualTo("6145f501578671e2877dba2be487af7e"));
    }

    [Test]
    public void Seeded_hash_matches_the_mmh3_documentation()
    {
        // mmh3 docs: hash128('foo', 42) == 215966891540331383248189432718888555506 (h2 << 64 | h1),
        // hash64('foo', 42, True) == (-840311307571801102, -6739155424061121879).
        var hash = new byte[16];
        MurmurHash3.Hash128("foo"u8, hash, seed: 42);
        var h1 = BitConverter.ToInt64(hash, 0);
        var h2 = BitConverter.ToInt64(hash, 8);
        Assert.That((h1, h2), Is.EqualTo((-840311307571801102L, -6739155424061121879L)));
        var value = new BigInteger(hash, isUnsigned: true, isBigEndian: false);
        Assert.That(value, Is.EqualTo(BigInteger.Parse("215966891540331383248189432718888555506")));
    }

    [Test]
    public void Empty_input_hashes_to_zero()
    {
        Assert.That(MurmurHash3.HexDigest([]), Is.EqualTo(new string('0', 32)));
    }

    [Test]
    public void SMHasher_verification_value_matches()
    {
        // SMHasher's VerificationTest: hash keys {}, {0}, {0,1}, ... {0..254} with seed 256-n,
        // hash the concatenated results with seed 0; the first 4 bytes (LE) must be 0x6384BA69.
        var key = new byte[256];
        var hashes = new byte[16 * 256];
        for (var i = 0; i < 256; i++)
        {
            key[i] = (byte)i;
            MurmurHash3.Hash128(key.AsSpan(0, i), hashes.AsSpan(i * 16, 16), (uint)(256 - i));
        }
        var final = new byte[16];
        MurmurHash3.Hash128(hashes, final);
        Assert.That(BitConverter.ToUInt32(final, 0), Is.EqualTo(0x6384BA69u));
    }

    [Test]
    public void Four_MiB_of_spaces_has_the_hash_the_original_pins()
    {
        // The original's test_chunk.py: SPACE_CHUNK_HASH for b" " * 4 MiB.
        var spaces = Encoding.ASCII.GetBytes(new string(' ', 4 * 1024 * 1024));
        Assert.That(MurmurHash3.HexDigest(spaces), Is.EqualTo("c01b5d75bfe6a1fa5bca6e492c5ab09a"));
    }

    [Test]
    public void Every_tail_length_gives_a_distinct_hash()
    {
        // Tails 0..15 exercise each branch of the tail mixing; a dropped byte would collide.
        var data = Enumerable.Range(1, 47).Select(i => (byte)i).ToArray();
        var digests = Enumerable.Range(0, 48).Select(n => MurmurHash3.HexDigest(data.AsSpan(0, n))).ToList();
        Assert.That(digests.Distinct().Count(), Is.EqualTo(48));
    }
}

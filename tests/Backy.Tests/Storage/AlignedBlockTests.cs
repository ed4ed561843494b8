using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Backy.Storage.IO;

namespace Backy.Tests.Storage;

/// <summary>The buffers the restore engine hands to O_DIRECT writes, and the rule that decides a direct write.</summary>
public class AlignedBlockTests
{
    [Test]
    public void Allocated_blocks_start_on_a_page_boundary_and_are_zeroed()
    {
        for (var i = 0; i < 20; i++)
        {
            var block = AlignedBlock.Allocate(4 << 20);
            Assert.That(Address(block.Span) % AlignedBlock.Alignment, Is.Zero);
            Assert.That(block.Span.ContainsAnyExcept((byte)0), Is.False, "the hole buffer relies on zeroed memory");
        }
    }

    [Test]
    public void Direct_writes_need_aligned_address_offset_and_length()
    {
        var block = AlignedBlock.Allocate(8192);
        Assert.That(AlignedBlock.IsDirectWritable(block.Span, 4096), Is.True);
        Assert.That(AlignedBlock.IsDirectWritable(block.Span[..4096], 0), Is.True);
        Assert.That(AlignedBlock.IsDirectWritable(block.Span, 512), Is.False, "unaligned file offset");
        Assert.That(AlignedBlock.IsDirectWritable(block.Span[..4000], 0), Is.False, "unaligned length (an image's tail)");
        Assert.That(AlignedBlock.IsDirectWritable(block.Span[1..4097], 0), Is.False, "unaligned address");
        Assert.That(AlignedBlock.IsDirectWritable(ReadOnlySpan<byte>.Empty, 0), Is.False);
    }

    private static unsafe long Address(Span<byte> data) => (long)Unsafe.AsPointer(ref MemoryMarshal.GetReference(data));
}

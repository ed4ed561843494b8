namespace Backy.Storage.Legacy;

/// <summary>
/// A safe LZO1X decompressor (the format of liblzo2's <c>lzo1x_1_compress</c> and
/// <c>lzo1x_999_compress</c>), written after the structure of the reference <c>lzo1x_d.ch</c>.
/// Every read of the input, every write of the output and every back-reference is bounds-checked:
/// corrupt input ends in an <see cref="LzoException"/>, never an out-of-range access or a loop
/// that does not consume input. No maintained managed LZO exists on NuGet (the one listed wraps
/// native libraries), and the decoder is small.
/// </summary>
public static class Lzo1xDecompressor
{
    // Frozen by the format: the farthest distance of an M2 match and the M4 distance offset.
    private const int M2MaxOffset = 0x0800;
    private const int M4Offset = 0x4000;

    /// <summary>
    /// Decompresses <paramref name="input"/> into exactly <paramref name="output"/>.Length bytes.
    /// The stream must end with the end-of-stream marker, fill the output exactly and use every input byte.
    /// </summary>
    public static void Decompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        var ip = 0;
        var op = 0;
        int t;

        var state = State.Start;
        if (input.Length == 0)
            throw new LzoException("stream is empty");
        if (input[0] > 17)
        {
            ip = 1;
            t = input[0] - 17;
            if (t < 4)
            {
                state = State.MatchNext;
            }
            else
            {
                CopyLiterals(input, ref ip, output, ref op, t);
                state = State.FirstLiteralRun;
            }
        }
        else
        {
            t = 0;
        }

        while (true)
        {
            switch (state)
            {
                case State.Start:
                    t = ReadByte(input, ref ip);
                    if (t >= 16)
                    {
                        state = State.Match;
                        break;
                    }
                    if (t == 0)
                        t = 15 + ReadRunLength(input, ref ip);
                    CopyLiterals(input, ref ip, output, ref op, t + 3);
                    state = State.FirstLiteralRun;
                    break;

                case State.FirstLiteralRun:
                    t = ReadByte(input, ref ip);
                    if (t >= 16)
                    {
                        state = State.Match;
                        break;
                    }
                    // A short match right after a literal run: 3 bytes from up to 2 KiB + 3 back.
                    var distance = 1 + M2MaxOffset + (t >> 2) + (ReadByte(input, ref ip) << 2);
                    CopyMatch(output, ref op, distance, 3);
                    state = State.MatchDone;
                    break;

                case State.Match:
                    if (t >= 64)
                    {
                        // M2: 3..8 bytes, distance up to 2 KiB.
                        var d = 1 + ((t >> 2) & 7) + (ReadByte(input, ref ip) << 3);
                        CopyMatch(output, ref op, d, (t >> 5) + 1);
                    }
                    else if (t >= 32)
                    {
                        // M3: distance up to 16 KiB.
                        var length = t & 31;
                        if (length == 0)
                            length = 31 + ReadRunLength(input, ref ip);
                        var d = 1 + ReadDistance(input, ref ip);
                        CopyMatch(output, ref op, d, length + 2);
                    }
                    else if (t >= 16)
                    {
                        // M4: distance 16..48 KiB, or the end-of-stream marker.
                        var high = (t & 8) << 11;
                        var length = t & 7;
                        if (length == 0)
                            length = 7 + ReadRunLength(input, ref ip);
                        var d = high + ReadDistance(input, ref ip);
                        if (d == 0)
                        {
                            Finish(input, ip, output, op);
                            return;
                        }
                        CopyMatch(output, ref op, d + M4Offset, length + 2);
                    }
                    else
                    {
                        // M1 after a match: 2 bytes, distance up to 1 KiB.
                        var d = 1 + (t >> 2) + (ReadByte(input, ref ip) << 2);
                        CopyMatch(output, ref op, d, 2);
                    }
                    state = State.MatchDone;
                    break;

                case State.MatchDone:
                    // The low two bits of the match's first distance byte count trailing literals.
                    t = input[ip - 2] & 3;
                    state = t == 0 ? State.Start : State.MatchNext;
                    break;

                case State.MatchNext:
                    CopyLiterals(input, ref ip, output, ref op, t);
                    t = ReadByte(input, ref ip);
                    state = State.Match;
                    break;
            }
        }
    }

    private enum State { Start, FirstLiteralRun, Match, MatchDone, MatchNext }

    private static byte ReadByte(ReadOnlySpan<byte> input, ref int ip)
    {
        if (ip >= input.Length)
            throw new LzoException($"input ends early at byte {input.Length} without the end-of-stream marker");
        return input[ip++];
    }

    /// <summary>Zero bytes each add 255, the first non-zero byte ends the run. Bounded by the input length.</summary>
    private static int ReadRunLength(ReadOnlySpan<byte> input, ref int ip)
    {
        long total = 0;
        byte b;
        while ((b = ReadByte(input, ref ip)) == 0)
        {
            total += 255;
            if (total > int.MaxValue / 2)
                throw new LzoException($"run length at byte {ip} is impossibly large");
        }
        return (int)(total + b);
    }

    private static int ReadDistance(ReadOnlySpan<byte> input, ref int ip)
    {
        var lo = ReadByte(input, ref ip);
        var hi = ReadByte(input, ref ip);
        return (lo >> 2) + (hi << 6);
    }

    private static void CopyLiterals(ReadOnlySpan<byte> input, ref int ip, Span<byte> output, ref int op, int count)
    {
        if (count > input.Length - ip)
            throw new LzoException($"literal run of {count} bytes at byte {ip} overruns the input");
        if (count > output.Length - op)
            throw new LzoException($"literal run of {count} bytes overruns the output of {output.Length} bytes");
        input.Slice(ip, count).CopyTo(output[op..]);
        ip += count;
        op += count;
    }

    private static void CopyMatch(Span<byte> output, ref int op, int distance, int length)
    {
        if (distance > op)
            throw new LzoException($"match at output byte {op} refers {distance} bytes back, before the start");
        if (length > output.Length - op)
            throw new LzoException($"match of {length} bytes overruns the output of {output.Length} bytes");
        var from = op - distance;
        if (distance >= length)
        {
            output.Slice(from, length).CopyTo(output[op..]);
        }
        else
        {
            // Overlapping copy repeats the last `distance` bytes: byte by byte, as the format intends.
            for (var i = 0; i < length; i++)
                output[op + i] = output[from + i];
        }
        op += length;
    }

    private static void Finish(ReadOnlySpan<byte> input, int ip, Span<byte> output, int op)
    {
        if (ip != input.Length)
            throw new LzoException($"{input.Length - ip} bytes follow the end-of-stream marker");
        if (op != output.Length)
            throw new LzoException($"stream holds {op} bytes, expected {output.Length}");
    }
}

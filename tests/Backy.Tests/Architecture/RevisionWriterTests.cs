using System.Reflection.Emit;
using System.Reflection;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;

namespace Backy.Tests.Architecture;

/// <summary>
/// One writer of revision metadata (issue 13): <see cref="RevisionStore"/> is the only type that writes, rewrites or
/// deletes a <c>.rev</c>, because it is the type that holds the job's <c>.backup</c> lock. Checked on the IL of every
/// production assembly: a type that names a <c>.rev</c> (the ".rev" string, <c>JobDirectory.RevisionPath</c>) and
/// also changes files (write, create, delete, rename, chmod) is a second writer. Lambdas, local functions and async
/// state machines count for the type that contains them.
/// </summary>
public class RevisionWriterTests
{
    static readonly string[] Assemblies = ["Backy.Storage", "Backy.Sources", "backy-worker", "backy-daemon", "backy"];

    /// <summary>Members that change the file system: any of them in a type that handles .rev paths makes it a writer.</summary>
    static readonly (string Type, string[] Methods)[] FileChanges =
    [
        ("System.IO.File", ["Delete", "Move", "Replace", "Copy", "WriteAllText", "WriteAllBytes", "WriteAllLines", "AppendAllText", "AppendAllLines", "AppendText", "Create", "CreateText", "OpenWrite", "OpenHandle", "Open", "SetUnixFileMode", "SetAttributes", "WriteAllTextAsync", "WriteAllBytesAsync"]),
        ("System.IO.FileInfo", ["Delete", "MoveTo", "CopyTo", "Create", "OpenWrite", "Open", "set_IsReadOnly", "set_Attributes", "set_UnixFileMode"]),
        ("System.IO.FileStream", [".ctor"]),
        ("System.IO.RandomAccess", ["Write", "WriteAsync", "SetLength"]),
        ("Backy.Storage.IO.DurableFile", ["WriteAllText", "WriteAllBytes", "TryDelete"]),
        ("Backy.Storage.IO.Posix", ["Open"]),
    ];

    [Test]
    public void Only_the_revision_store_writes_rev_files()
    {
        var writers = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in Assemblies)
        {
            var assembly = Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, name + ".dll"));
            foreach (var group in assembly.GetTypes().GroupBy(Outermost))
            {
                var uses = group.SelectMany(Uses).ToList();
                var namesRev = uses.Any(u => u.Member == "Backy.Storage.Jobs.JobDirectory.RevisionPath" || u.String?.Contains(JobLayout.RevisionExtension, StringComparison.Ordinal) == true);
                var changes = uses.Where(u => u.Member is { } m && FileChanges.Any(f => f.Methods.Any(x => m == $"{f.Type}.{x}"))).Select(u => u.Member!).Distinct().ToList();
                if (namesRev && changes.Count > 0)
                    writers[group.Key.FullName!] = string.Join(", ", changes);
            }
        }
        Assert.That(writers.Keys, Is.EqualTo(new[] { typeof(RevisionStore).FullName }),
            "only RevisionStore (which holds the .backup lock) may write or delete .rev files; found: " +
            string.Join("; ", writers.Select(w => $"{w.Key} ({w.Value})")));
    }

    /// <summary>The check itself sees a second writer: a type that combines a .rev path with a file write.</summary>
    [Test]
    public void The_check_finds_a_write_to_a_rev_path()
    {
        var uses = Uses(typeof(SecondWriter)).ToList();
        Assert.That(uses.Any(u => u.String == JobLayout.RevisionExtension), Is.True, "the .rev string is seen");
        Assert.That(uses.Any(u => u.Member == "System.IO.File.WriteAllText"), Is.True, "the write is seen");
    }

    static class SecondWriter
    {
        public static void Write(string dir, string id) => File.WriteAllText(Path.Combine(dir, id + JobLayout.RevisionExtension), "uuid: x");
    }

    static Type Outermost(Type t)
    {
        while (t.DeclaringType is not null) t = t.DeclaringType;
        return t;
    }

    public sealed record Use(string? Member, string? String);

    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>Every method called (type.name) and string loaded by the type's own methods and constructors.</summary>
    static IEnumerable<Use> Uses(Type type)
    {
        const BindingFlags all = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;
        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            byte[]? il;
            try { il = method.GetMethodBody()?.GetILAsByteArray(); }
            catch (Exception e) when (e is BadImageFormatException or InvalidOperationException) { il = null; }
            if (il is null) continue;
            for (var i = 0; i < il.Length;)
            {
                var code = il[i] == 0xFE ? OpCodesByValue[(short)(0xFE00 | il[i + 1])] : OpCodesByValue[il[i]];
                i += code.Size;
                var operandSize = code.OperandType switch
                {
                    OperandType.InlineNone => 0,
                    OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                    OperandType.InlineVar => 2,
                    OperandType.InlineI8 or OperandType.InlineR => 8,
                    OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                    _ => 4,
                };
                if (code.OperandType == OperandType.InlineMethod)
                {
                    var member = Resolve(method, BitConverter.ToInt32(il, i));
                    if (member is not null) yield return new Use($"{member.DeclaringType?.FullName}.{member.Name}", null);
                }
                else if (code.OperandType == OperandType.InlineString)
                    yield return new Use(null, method.Module.ResolveString(BitConverter.ToInt32(il, i)));
                i += operandSize;
            }
        }
    }

    static MethodBase? Resolve(MethodBase caller, int token)
    {
        try
        {
            return caller.Module.ResolveMethod(token,
                caller.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null,
                caller.IsGenericMethod ? caller.GetGenericArguments() : null);
        }
        catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException) { return null; }
    }
}

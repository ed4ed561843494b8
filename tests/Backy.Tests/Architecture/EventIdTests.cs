using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Backy.Tests.Architecture;

/// <summary>
/// Event ids are stable and each belongs to one message: every <c>[LoggerMessage]</c> of every production assembly,
/// read by reflection, has an id of its own, inside its assembly's range (the table in README.md, "Log event ids").
/// </summary>
public class EventIdTests
{
    static readonly (string Assembly, int First, int Last)[] Ranges =
    [
        ("Backy.Storage", 1000, 1999),
        ("backy-worker", 2000, 2999),
        ("Backy.Sources", 3000, 3999),
        ("backy-daemon", 4000, 5999),
        ("backy", 6000, 6999),
        ("Backy.Copies.S3", 7000, 7999),
    ];

    [Test]
    public void No_two_log_messages_share_an_event_id_and_each_is_in_its_assemblys_range()
    {
        var messages = Ranges.SelectMany(r => Messages(r.Assembly).Select(m => (Range: r, m.Id, m.Where))).ToList();
        Assert.That(messages.Count, Is.GreaterThan(100), "the scan finds the messages");

        var shared = messages.GroupBy(m => m.Id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Where))}").ToList();
        var outside = messages.Where(m => m.Id < m.Range.First || m.Id > m.Range.Last)
            .Select(m => $"{m.Where} has {m.Id}, outside {m.Range.Assembly}'s {m.Range.First}-{m.Range.Last}").ToList();

        Assert.Multiple(() =>
        {
            Assert.That(shared, Is.Empty, "event ids used by more than one message");
            Assert.That(outside, Is.Empty, "event ids outside their assembly's range");
        });
    }

    /// <summary>The check sees what it checks: the ids come out of the attributes of a known type's messages.</summary>
    [Test]
    public void The_scan_reads_the_ids_of_a_types_messages()
    {
        var ids = Declared(typeof(Backy.Daemon.Scheduling.Housekeeping)).Select(m => m.Id).Order();
        Assert.That(ids, Is.EqualTo(new[] { 4700, 4701, 4702 }));
    }

    static IEnumerable<(int Id, string Where)> Messages(string assemblyName)
    {
        var assembly = Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll"));
        return assembly.GetTypes().SelectMany(Declared);
    }

    static IEnumerable<(int Id, string Where)> Declared(Type type) =>
        type.GetMethods(BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance)
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => (x.Attribute!.EventId, $"{type.FullName}.{x.Method.Name}"));
}

using Backy.Storage.Revisions;

namespace Backy.Tests.Storage;

public class RevisionFileTests
{
    [Test]
    public void Revision_round_trips_through_yaml_with_the_originals_fields()
    {
        var rev = new Revision
        {
            Id = RevisionId.New(),
            Timestamp = new DateTimeOffset(2015, 11, 4, 20, 9, 32, TimeSpan.Zero),
            Parent = "",
            Tags = new(["daily", "weekly"]),
            OrigTags = new(["daily", "weekly"]),
            BytesWritten = 1234,
            Duration = 2.5,
            Trust = Trust.Verified,
        };
        var text = RevisionFile.Serialize(rev);
        foreach (var key in new[] { "uuid:", "timestamp:", "parent: ''", "stats:", "bytes_written: 1234", "duration: 2.5", "trust: verified", "tags:", "orig_tags:", "server: ''", "backend_type: chunked-xxh128" })
            Assert.That(text, Does.Contain(key));
        var back = RevisionFile.Parse(text);
        Assert.That(back.Id, Is.EqualTo(rev.Id));
        Assert.That(back.Timestamp, Is.EqualTo(rev.Timestamp));
        Assert.That(back.Tags, Is.EqualTo(rev.Tags));
        Assert.That(back.Duration, Is.EqualTo(2.5));
        Assert.That(back.Trust, Is.EqualTo(Trust.Verified));
        Assert.That(back.IsComplete, Is.True);
    }

    [Test]
    public void Revision_written_by_the_original_python_backy_is_read()
    {
        const string original = """
            backend_type: chunked
            orig_tags:
            - daily
            parent: ECHtbbhrDUFaenAyZmgHSF
            server: ''
            stats:
              bytes_written: 193986560
              duration: 28.36
              chunks_written: 12
            tags:
            - daily
            timestamp: 2015-11-06 06:15:09.123456+00:00
            trust: trusted
            uuid: NuAHAwfjiSJceoftU3gNbd
            """;
        var rev = RevisionFile.Parse(original);
        Assert.That(rev.Id, Is.EqualTo("NuAHAwfjiSJceoftU3gNbd"));
        Assert.That(rev.Parent, Is.EqualTo("ECHtbbhrDUFaenAyZmgHSF"));
        Assert.That(rev.BackendType, Is.EqualTo("chunked"));
        Assert.That(rev.Timestamp, Is.EqualTo(new DateTimeOffset(2015, 11, 6, 6, 15, 9, TimeSpan.Zero).AddTicks(1234560)));
        Assert.That(rev.ExtraStats["chunks_written"], Is.EqualTo("12"));
    }

    [Test]
    public void Revision_without_duration_is_incomplete()
    {
        var rev = RevisionFile.Parse("uuid: NuAHAwfjiSJceoftU3gNbd\ntimestamp: 2015-11-06T06:15:09+00:00\nstats: {bytes_written: 0}\n");
        Assert.That(rev.IsComplete, Is.False);
    }

    [Test]
    public void Revision_ids_are_22_characters_of_base57()
    {
        var ids = Enumerable.Range(0, 200).Select(_ => RevisionId.New()).ToList();
        Assert.That(ids, Is.All.Matches<string>(id => RevisionId.IsValid(id!)));
        Assert.That(ids.Distinct().Count(), Is.EqualTo(200));
    }
}

using Backy.Storage;
using Backy.Storage.Revisions;

namespace Backy.Tests.Storage;

public class RevisionSpecTests
{
    private static readonly IReadOnlyList<Revision> History =
    [
        Rev("AAAAAAAAAAAAAAAAAAAAAA", 1, "daily", "weekly"),
        Rev("BBBBBBBBBBBBBBBBBBBBBB", 2, "daily"),
        Rev("CCCCCCCCCCCCCCCCCCCCCC", 3, "hourly"),
    ];

    private static Revision Rev(string id, int day, params string[] tags) => new()
    {
        Id = id, Timestamp = new DateTimeOffset(2024, 1, day, 0, 0, 0, TimeSpan.Zero), Tags = new(tags), Duration = 1,
    };

    [TestCase("BBBBBBBBBBBBBBBBBBBBBB", "BBBBBBBBBBBBBBBBBBBBBB")]
    [TestCase("0", "CCCCCCCCCCCCCCCCCCCCCC")]
    [TestCase("2", "AAAAAAAAAAAAAAAAAAAAAA")]
    [TestCase("last", "CCCCCCCCCCCCCCCCCCCCCC")]
    [TestCase("latest", "CCCCCCCCCCCCCCCCCCCCCC")]
    [TestCase(null, "CCCCCCCCCCCCCCCCCCCCCC")]
    [TestCase("daily", "BBBBBBBBBBBBBBBBBBBBBB")]
    [TestCase("weekly", "AAAAAAAAAAAAAAAAAAAAAA")]
    public void Spec_selects_the_revision(string? spec, string expected) =>
        Assert.That(RevisionSpec.Resolve(spec, History).Id, Is.EqualTo(expected));

    [TestCase("3", "only 3 complete revisions")]
    [TestCase("monthly", "not a revision id, number or tag")]
    public void Spec_that_matches_nothing_names_the_reason(string spec, string reason)
    {
        var e = Assert.Throws<BackyException>(() => RevisionSpec.Resolve(spec, History));
        Assert.That(e!.Message, Does.Contain($"'{spec}'").And.Contain(reason));
    }
}

"""A made-up WordPress export (WXR 1.2) of any size, the same for the same seed,
for benchmarks/import_wxr.py: posts with nested comments, written as a stream.

What a real export of a busy blog holds, as far as the importer cares: comment
ids global and rising across posts, replies by ``wp:comment_parent`` to an
earlier comment of the same post (up to MAX_DEPTH levels), one post holding a
fifth of all the comments, HTML bodies with links, emphasis and quotes, names
in several scripts, pingbacks (the importer skips and counts them), some
comments pending, spam or in the trash, and attachments, which are not
articles. Only one item's comments are ever in memory.

    .venv/bin/python benchmarks/wxr_export.py OUT.xml [--comments 100000]
"""

import argparse
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

SITE = "https://bench.example"
MAX_DEPTH = 10  # levels below a top-level comment, as WordPress's default allows
REPLY_SHARE = 0.55
PINGBACK_SHARE = 0.02
# wp:comment_approved as WordPress writes it; the rest are "1".
OTHER_STATES = (("0", 0.03), ("spam", 0.015), ("trash", 0.01))

FIRST = (
    "Anna", "Zoë", "Margit", "José", "Łukasz", "Søren", "Ingrid", "Tomás",
    "Chloé", "Jürgen", "Ahmed", "Priya", "Алексей", "Мария", "Γιώργος",
    "Ελένη", "健", "さくら", "Nguyễn", "Şebnem", "Olusegun", "Mei", "Björk",
    "François", "Dvořák", "Ana", "Kwame", "Fatma", "Ólafur", "Raúl",
)  # fmt: skip
LAST = (
    "Håkansson", "Ōkubo", "García", "Müller", "Kowalski", "Nørgaard", "Smith",
    "O'Brien", "Петров", "Παπαδόπουλος", "山田", "Öztürk", "Adeyemi", "Chen",
    "", "", "",
)  # fmt: skip
WORDS = (
    "the", "argument", "holds", "only", "if", "we", "ignore", "how", "people",
    "actually", "read", "the", "article", "and", "what", "the", "figures", "in",
    "the", "second", "table", "say", "about", "prices", "rents", "wages", "and",
    "the", "council", "which", "never", "answered", "my", "letter", "about", "it",
    "though", "I", "agree", "with", "most", "of", "what", "you", "wrote", "here",
    "and", "elsewhere", "on", "this", "site", "since", "the", "beginning", "of",
    "the", "year", "when", "the", "debate", "started", "again", "after", "the",
    "election", "and", "the", "long", "summer", "of", "strikes", "at", "the", "port",
)  # fmt: skip
LINKS = (
    "https://en.wikipedia.org/wiki/Housing",
    "https://example.org/report?year=2023&page=4",
    "http://news.example.net/2024/03/strike",
    "https://data.example.gov/rents.csv",
)


@dataclass
class Export:
    """What the generated file holds, for checking an import of it."""

    path: Path
    posts: int = 0
    comments: int = 0  # every wp:comment, pingbacks included
    pingbacks: int = 0
    replies: int = 0
    deepest: int = 0  # levels below a top-level comment
    biggest_post: int = 0  # comments on the post with the most
    bytes: int = 0
    states: Counter = field(default_factory=Counter)  # wp:comment_approved

    @property
    def importable(self):
        """Comments an import stores: all but the pingbacks."""
        return self.comments - self.pingbacks


def post_sizes(rng, comments, posts):
    """Comments per post: one post a fifth of them, the rest spread unevenly."""
    if posts == 1:
        return [comments]
    big = comments // 5
    weights = [rng.lognormvariate(0, 0.7) for _ in range(posts - 1)]
    total = sum(weights)
    sizes = [int((comments - big) * weight / total) for weight in weights]
    sizes[0] += comments - big - sum(sizes)
    # The big one sits among the others, not first: a sample of the file's
    # first comments (import_wxr.py's baseline) then meets ordinary posts.
    sizes.insert(posts // 2, big)
    return sizes


def sentence(rng):
    words = rng.choices(WORDS, k=rng.randint(6, 18))
    text = " ".join(words)
    roll = rng.random()
    if roll < 0.06:
        link = rng.choice(LINKS)
        text += f' (<a href="{link}" rel="nofollow">source</a>)'
    elif roll < 0.12:
        at = rng.randrange(len(words))
        words[at] = f"<em>{words[at]}</em>"
        text = " ".join(words)
    elif roll < 0.14:
        text += " & that's that"
    return text[0].upper() + text[1:] + rng.choice(".....?!")


def comment_body(rng):
    sentences = [sentence(rng) for _ in range(rng.randint(1, 6))]
    if rng.random() < 0.05:
        sentences[0] = f"<blockquote>{sentences[0]}</blockquote>"
    # WordPress keeps paragraphs as blank lines in comment text.
    if len(sentences) > 3 and rng.random() < 0.5:
        return " ".join(sentences[:2]) + "\n\n" + " ".join(sentences[2:])
    return " ".join(sentences)


def cdata(text):
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def stamp(moment):
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def write_item_comments(out, rng, export, *, size, post_at, next_id):
    """The comments of one post; returns the next free comment id."""
    ids, depths = [], []  # this post's real comments (not pingbacks), in order
    at = post_at
    for _ in range(size):
        comment_id = next_id
        next_id += rng.randint(1, 3)  # deleted comments leave gaps in the ids
        at += timedelta(seconds=rng.randint(5, 4 * 3600))
        parent, depth = 0, 0
        if rng.random() < PINGBACK_SHARE:
            kind = "pingback"
            name = f"Blog {rng.randint(1, 400)} » On housing"
            email, url = "", f"https://blog{rng.randint(1, 400)}.example/on-housing/"
            body = f"[…] {sentence(rng)} […]"
            approved = "1"
            export.pingbacks += 1
        else:
            # WordPress before 5.5 wrote an empty type for plain comments.
            kind = "comment" if rng.random() < 0.7 else ""
            if ids and rng.random() < REPLY_SHARE:
                # Mostly to the recent conversation, sometimes far back.
                back = len(ids) if rng.random() < 0.3 else min(len(ids), 40)
                pick = len(ids) - 1 - rng.randrange(back)
                if depths[pick] < MAX_DEPTH:
                    parent, depth = ids[pick], depths[pick] + 1
                    export.replies += 1
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name = f"{first} {last}".strip()
            email = f"reader{rng.randint(1, 20000)}@mail.example"
            url = (
                f"https://{rng.randint(1, 20000)}.blog.example"
                if rng.random() < 0.2
                else ""
            )
            body = comment_body(rng)
            approved = "1"
            roll = rng.random()
            for state, share in OTHER_STATES:
                if roll < share:
                    approved = state
                    break
                roll -= share
            ids.append(comment_id)
            depths.append(depth)
            export.deepest = max(export.deepest, depth)
        export.states[approved] += 1
        out.write(
            "\t\t<wp:comment>\n"
            f"\t\t\t<wp:comment_id>{comment_id}</wp:comment_id>\n"
            f"\t\t\t<wp:comment_author>{cdata(name)}</wp:comment_author>\n"
            f"\t\t\t<wp:comment_author_email>{cdata(email)}</wp:comment_author_email>\n"
            f"\t\t\t<wp:comment_author_url>{escape(url)}</wp:comment_author_url>\n"
            f"\t\t\t<wp:comment_author_IP>{cdata(f'198.51.100.{rng.randint(1, 254)}')}"
            "</wp:comment_author_IP>\n"
            f"\t\t\t<wp:comment_date>{cdata(stamp(at + timedelta(hours=1)))}"
            "</wp:comment_date>\n"
            f"\t\t\t<wp:comment_date_gmt>{cdata(stamp(at))}</wp:comment_date_gmt>\n"
            f"\t\t\t<wp:comment_content>{cdata(body)}</wp:comment_content>\n"
            f"\t\t\t<wp:comment_approved>{cdata(approved)}</wp:comment_approved>\n"
            f"\t\t\t<wp:comment_type>{cdata(kind)}</wp:comment_type>\n"
            f"\t\t\t<wp:comment_parent>{parent}</wp:comment_parent>\n"
            "\t\t\t<wp:comment_user_id>0</wp:comment_user_id>\n"
            "\t\t</wp:comment>\n"
        )
    export.comments += size
    export.biggest_post = max(export.biggest_post, size)
    return next_id


def write_wxr(path, *, comments=100_000, posts=100, seed=8):
    """Write the export to ``path``; returns what it holds."""
    rng = random.Random(seed)
    export = Export(path=Path(path))
    sizes = post_sizes(rng, comments, posts)
    started = datetime(2016, 1, 4, 8, 0, tzinfo=UTC)
    next_comment_id = 1
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n'
            "<!-- This is a WordPress eXtended RSS file generated by WordPress as an "
            "export of your site. -->\n"
            '<rss version="2.0"\n'
            '\txmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"\n'
            '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
            '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
            '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '\txmlns:wp="http://wordpress.org/export/1.2/"\n>\n\n<channel>\n'
            "\t<title>The Harbour Ledger</title>\n"
            f"\t<link>{SITE}</link>\n"
            "\t<description>Housing, work and the port</description>\n"
            "\t<language>en-GB</language>\n"
            "\t<wp:wxr_version>1.2</wp:wxr_version>\n"
            f"\t<wp:base_site_url>{SITE}</wp:base_site_url>\n"
            f"\t<wp:base_blog_url>{SITE}</wp:base_blog_url>\n"
            "\t<wp:author><wp:author_id>1</wp:author_id><wp:author_login>"
            f"{cdata('ingrid')}</wp:author_login><wp:author_display_name>"
            f"{cdata('Ingrid Nørgaard')}</wp:author_display_name></wp:author>\n"
            "\t<generator>https://wordpress.org/?v=6.4.3</generator>\n\n"
        )
        post_id = 10
        for number, size in enumerate(sizes):
            post_at = started + timedelta(days=number * 11, hours=rng.randint(0, 12))
            post_id += rng.randint(1, 6)
            slug = f"post-{number + 1}-on-housing"
            if number % 10 == 3:
                slug = f"%c3%a5rets-{number + 1}-bolig"  # "årets-...": percent-encoded
            title = escape(f"Housing & the port, part {number + 1}: {sentence(rng)}")
            paragraphs = "\n\n".join(
                " ".join(sentence(rng) for _ in range(rng.randint(3, 7)))
                for _ in range(rng.randint(3, 8))
            )
            out.write(
                "\t<item>\n"
                f"\t\t<title>{title}</title>\n"
                f"\t\t<link>{SITE}/{post_at:%Y/%m}/{slug}/</link>\n"
                f"\t\t<pubDate>{post_at:%a, %d %b %Y %H:%M:%S} +0000</pubDate>\n"
                f"\t\t<dc:creator>{cdata('ingrid')}</dc:creator>\n"
                f'\t\t<guid isPermaLink="false">{SITE}/?p={post_id}</guid>\n'
                "\t\t<description></description>\n"
                f"\t\t<content:encoded>{cdata(paragraphs)}</content:encoded>\n"
                f"\t\t<excerpt:encoded>{cdata('')}</excerpt:encoded>\n"
                f"\t\t<wp:post_id>{post_id}</wp:post_id>\n"
                f"\t\t<wp:post_date>{cdata(stamp(post_at + timedelta(hours=1)))}"
                "</wp:post_date>\n"
                f"\t\t<wp:post_date_gmt>{cdata(stamp(post_at))}</wp:post_date_gmt>\n"
                f"\t\t<wp:comment_status>{cdata('open')}</wp:comment_status>\n"
                f"\t\t<wp:ping_status>{cdata('open')}</wp:ping_status>\n"
                f"\t\t<wp:post_name>{cdata(slug)}</wp:post_name>\n"
                f"\t\t<wp:status>{cdata('publish')}</wp:status>\n"
                "\t\t<wp:post_parent>0</wp:post_parent>\n"
                "\t\t<wp:menu_order>0</wp:menu_order>\n"
                f"\t\t<wp:post_type>{cdata('post')}</wp:post_type>\n"
                f"\t\t<wp:post_password>{cdata('')}</wp:post_password>\n"
                "\t\t<wp:is_sticky>0</wp:is_sticky>\n"
                '\t\t<category domain="category" nicename="housing">'
                f"{cdata('Housing')}</category>\n"
            )
            next_comment_id = write_item_comments(
                out, rng, export, size=size, post_at=post_at, next_id=next_comment_id
            )
            out.write("\t</item>\n")
            export.posts += 1
            if number % 10 == 9:
                # An image the post used: an item, but not an article.
                post_id += 1
                out.write(
                    "\t<item>\n"
                    f"\t\t<title>harbour-{number}.jpg</title>\n"
                    f"\t\t<wp:post_id>{post_id}</wp:post_id>\n"
                    f"\t\t<wp:post_type>{cdata('attachment')}</wp:post_type>\n"
                    f"\t\t<wp:status>{cdata('inherit')}</wp:status>\n"
                    f"\t\t<wp:attachment_url>{SITE}/uploads/harbour-{number}.jpg"
                    "</wp:attachment_url>\n"
                    "\t</item>\n"
                )
        out.write("</channel>\n</rss>\n")
    export.bytes = export.path.stat().st_size
    return export


def describe(export):
    states = ", ".join(f"{state} {n:,}" for state, n in sorted(export.states.items()))
    return (
        f"{export.path}: {export.bytes / 1e6:.1f} MB, {export.posts} posts, "
        f"{export.comments:,} comments ({export.pingbacks:,} pingbacks, "
        f"{export.replies:,} replies, {export.deepest} levels deep at most, "
        f"{export.biggest_post:,} on the biggest post; approved: {states})"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    print(
        describe(
            write_wxr(
                args.out, comments=args.comments, posts=args.posts, seed=args.seed
            )
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

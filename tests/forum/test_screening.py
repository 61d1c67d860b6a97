"""The pre-moderation rules (forum/screening.py): suspect and banned words seen
through disguises, the other rules that hold a comment, and the word lists in
the admin."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from forum import services
from forum.models import Comment, ModerationAction, WordRule
from forum.screening import WordLists, normalize
from tests.factories import CommentFactory, UserFactory
from tests.html import element
from tests.urls import comment_url, create_url

pytestmark = pytest.mark.django_db

HELD = "will appear once a moderator approves it"


def _lists(**kinds):
    """The word lists as the rules load them, with ``kinds`` as WordRule rows:
    _lists(suspect=["spam"], banned=["scam"])."""
    for kind, phrases in kinds.items():
        for phrase in phrases:
            WordRule.objects.create(phrase=phrase, kind=kind)
    return WordLists.load()


def _text(response):
    return response.content.decode()


# Whole words, any case, any script.


@pytest.mark.parametrize("text", ["class", "passage", "Assessment", "bass", "glass"])
def test_a_listed_word_inside_a_longer_word_is_not_found(text):
    lists = _lists(suspect=["ass"])

    assert lists.find(f"What a {text} this is.", "suspect") == []


@pytest.mark.parametrize("text", ["ass", "ASS", "Ass", "(ass)", "ass-backwards"])
def test_a_listed_word_is_found_as_a_whole_word_in_any_case(text):
    lists = _lists(suspect=["ass"])

    assert lists.find(f"What an {text}, really.", "suspect") == ["ass"]


@pytest.mark.parametrize("text", ["Ты дурак!", "ДУРАК", "Дурак, право", "дурАк"])
def test_a_listed_word_in_another_alphabet_is_found_in_any_case(text):
    lists = _lists(suspect=["дурак"])

    assert lists.find(text, "suspect") == ["дурак"]


def test_whole_words_hold_in_other_alphabets_too():
    lists = _lists(suspect=["дурак"])

    assert lists.find("Эти дураки опять", "suspect") == []


def test_the_listed_phrase_is_reported_as_the_moderator_wrote_it():
    lists = _lists(suspect=["Spam"], banned=["Cheap Pills"])

    assert lists.find("spam and CHEAP PILLS", "suspect") == ["Spam"]
    assert lists.find("spam and CHEAP PILLS", "banned") == ["Cheap Pills"]


# Disguises.


@pytest.mark.parametrize(
    "invisible",
    ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"],
    ids=["ZWSP", "ZWNJ", "ZWJ", "word-joiner", "BOM", "soft-hyphen"],
)
def test_invisible_characters_inside_a_word_do_not_hide_it(invisible):
    lists = _lists(suspect=["spam"])

    assert lists.find(f"Buy s{invisible}pa{invisible}m today", "suspect") == ["spam"]


@pytest.mark.parametrize("text", ["spám", "SPÀM", "śpäm", "spa\u0301m"])
def test_accents_do_not_hide_a_word(text):
    lists = _lists(suspect=["spam"])

    assert lists.find(text, "suspect") == ["spam"]


@pytest.mark.parametrize(
    ("listed", "text"),
    [
        ("spam", "sp\u0430m"),  # Cyrillic а
        ("cheap", "ch\u0435ap"),  # Cyrillic е
        ("promo", "pr\u043emo"),  # Cyrillic о
        ("spam", "s\u0440am"),  # Cyrillic р
        ("cheap", "\u0441heap"),  # Cyrillic с
        ("cheap", "\u0441h\u0435\u0430\u0440"),  # all four at once
        ("promo", "pr\u03bfm\u03bf"),  # Greek ο
        ("spam", "SP\u0410M"),  # Cyrillic capital А
    ],
)
def test_look_alike_letters_from_other_alphabets_do_not_hide_a_word(listed, text):
    lists = _lists(suspect=[listed])

    assert lists.find(f"Get your {text} here", "suspect") == [listed]


@pytest.mark.parametrize(
    "text",
    [
        "\uff53\uff50\uff41\uff4d",  # full-width ｓｐａｍ
        "\uff33\uff30\uff21\uff2d",  # full-width ＳＰＡＭ
        "\U0001d42c\U0001d429\U0001d41a\U0001d426",  # mathematical bold
        "\u24e2\u24df\u24d0\u24dc",  # circled
        "\ua731\u1d18\u1d00\u1d0d",  # small capitals ꜱᴘᴀᴍ
    ],
    ids=["full-width", "full-width-capitals", "bold", "circled", "small-caps"],
)
def test_fancy_letter_forms_do_not_hide_a_word(text):
    lists = _lists(suspect=["spam"])

    assert lists.find(f"Some {text} for you", "suspect") == ["spam"]


@pytest.mark.parametrize(
    ("listed", "text"),
    [
        ("spam", "sp4m"),
        ("spam", "$pam"),
        ("spam", "5p@m"),
        ("spam", "SP4M"),
        ("ass", "a55"),
        ("ass", "@ss"),
        ("ass", "a$$"),
        ("shit", "sh!t"),
    ],
)
def test_digits_and_signs_standing_in_for_letters_do_not_hide_a_word(listed, text):
    lists = _lists(suspect=[listed])

    assert lists.find(f"What {text}, honestly.", "suspect") == [listed]


def test_numbers_are_left_alone():
    lists = _lists(suspect=["sos", "bob"])

    assert normalize("In 2024, call 0800 555 0101.") == "in 2024, call 0800 555 0101."
    assert lists.find("Room 505, extension 808, since 2024.", "suspect") == []
    assert lists.find("Send s0s to b0b", "suspect") == ["sos", "bob"]


def test_a_listed_name_with_a_digit_in_it_is_found_as_written():
    lists = _lists(suspect=["4chan"])

    assert lists.find("Straight from 4chan.", "suspect") == ["4chan"]
    assert lists.find("Straight from 4channel.", "suspect") == []


def test_punctuation_after_a_word_is_not_read_as_a_letter():
    lists = _lists(suspect=["spam"])

    assert normalize("Spam!") == "spam!"
    assert lists.find("Spam! Spam| spam@", "suspect") == ["spam"]


@pytest.mark.parametrize(
    "text",
    ["buy now", "BUY  NOW", "buy\nnow", "buy \t\n now", "buy\u00a0now", "buy\u2003now"],
    ids=["space", "spaces", "newline", "mixed", "no-break-space", "em-space"],
)
def test_a_listed_phrase_matches_across_any_whitespace(text):
    lists = _lists(suspect=["buy now"])

    assert lists.find(f"Go on, {text}!", "suspect") == ["buy now"]


@pytest.mark.parametrize("text", ["buynow", "buy nowhere", "rebuy now", "buy, now"])
def test_a_listed_phrase_matches_only_its_whole_words_in_order(text):
    lists = _lists(suspect=["buy now"])

    assert lists.find(text, "suspect") == []


MARKUP_DISGUISES = pytest.mark.parametrize(
    "disguise",
    [
        "s{}<b></b>am",
        "s{}<b>a</b>m",
        "s<i>{}</i>a<em>m</em>",
        "s{}&#97;m",
        "&#x73;{}am",
    ],
    ids=["empty-tag", "bold-letter", "italic-letters", "decimal-ref", "hex-ref"],
)


@MARKUP_DISGUISES
def test_markup_and_character_references_do_not_hide_a_suspect_word(
    article, user, disguise
):
    """Readers see the rendered HTML: "sp<b></b>am" shows as "spam"."""
    _lists(suspect=["spam"])

    comment = services.post_comment(
        article=article, body=f"Try {disguise.format('p')}!", author=user
    )

    assert comment.status == Comment.Status.PENDING
    assert comment.held_because == "suspect words: “spam”"


@MARKUP_DISGUISES
def test_markup_and_character_references_do_not_hide_a_banned_word(
    article, user, disguise
):
    _lists(banned=["scam"])

    with pytest.raises(ValidationError, match="scam"):
        services.post_comment(
            article=article, body=f"Try {disguise.format('c')}!", author=user
        )
    assert not Comment.objects.exists()


# Suspect and banned words on the real write paths.


def test_a_banned_word_refuses_the_comment_and_writes_nothing(
    client, article, user, mailoutbox, django_capture_on_commit_callbacks
):
    _lists(banned=["scam"])
    client.force_login(user)
    body = "This is a total SC4M, trust me."

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(create_url(article), {"body": body})

    assert response.status_code == 400
    content = _text(response)
    assert "Your comment contains “scam”, which this forum does not accept." in content
    assert element(content, "textarea").value == body
    assert not Comment.objects.exists()
    assert not ModerationAction.objects.exists()
    assert mailoutbox == []


def test_a_suspect_word_holds_the_comment_and_says_why(client, article, user):
    _lists(suspect=["spam"])
    client.force_login(user)

    response = client.post(
        create_url(article), {"body": "Lovely s\u200bp\u0430m."}, follow=True
    )

    comment = Comment.objects.get()
    assert comment.status == Comment.Status.PENDING
    assert comment.held_because == "suspect words: “spam”"
    action = ModerationAction.objects.get()
    assert (action.verb, action.from_state, action.to_state) == (
        "hold",
        "new",
        Comment.Status.PENDING,
    )
    assert action.comment == comment and action.actor == user
    assert action.note == "suspect words: “spam”"
    assert HELD in _text(response)


def test_a_comment_without_listed_words_is_published(client, article, user):
    _lists(suspect=["spam"], banned=["scam"])
    client.force_login(user)

    response = client.post(
        create_url(article), {"body": "A spammer's scamper."}, follow=True
    )

    assert Comment.objects.get().status == Comment.Status.PUBLISHED
    assert not ModerationAction.objects.exists()
    assert "Your comment is posted." in _text(response)


# The other rules.


def test_more_than_the_allowed_number_of_links_holds_a_comment(settings, article, user):
    settings.FORUM_PREMODERATE_LINKS_OVER = 2
    two = "See https://a.example.com and https://b.example.com"
    three = two + " and https://c.example.com"

    kept = services.post_comment(article=article, body=two, author=user)
    held = services.post_comment(article=article, body=three, author=user)

    assert kept.status == Comment.Status.PUBLISHED
    assert held.status == Comment.Status.PENDING
    assert held.held_because == "3 links (more than 2)"


def test_no_link_limit_when_the_setting_is_empty(settings, article, user):
    settings.FORUM_PREMODERATE_LINKS_OVER = None
    body = " ".join(f"https://site{n}.example.com" for n in range(20))

    assert services.post_comment(article=article, body=body, author=user).status == (
        Comment.Status.PUBLISHED
    )


def test_a_new_accounts_first_comments_wait_until_that_many_are_published(
    settings, article, user, moderator
):
    settings.FORUM_PREMODERATE_FIRST_COMMENTS = 2

    def post(n):
        return services.post_comment(article=article, body=f"Number {n}", author=user)

    first, second, third = post(1), post(2), post(3)
    assert [c.status for c in (first, second, third)] == [Comment.Status.PENDING] * 3
    assert first.held_because == "one of a new account's first 2 comments"

    services.approve_comment(comment=first, moderator=moderator)
    # One published comment is fewer than two: still held.
    assert post(4).status == Comment.Status.PENDING

    services.approve_comment(comment=second, moderator=moderator)
    assert post(5).status == Comment.Status.PUBLISHED


def test_the_first_comments_rule_counts_each_account_on_its_own(
    settings, article, user, other_user
):
    settings.FORUM_PREMODERATE_FIRST_COMMENTS = 1
    for n in range(3):
        services.post_comment(
            article=article, body=f"Old hand {n}", author=other_user, status="published"
        )

    assert services.post_comment(
        article=article, body="Regular", author=other_user
    ).status == (Comment.Status.PUBLISHED)
    assert services.post_comment(
        article=article, body="Newcomer", author=user
    ).status == (Comment.Status.PENDING)


def test_a_premoderation_sanction_holds_that_authors_comments_only(
    article, user, other_user, moderator
):
    sanction = services.sanction_user(
        user=user, moderator=moderator, kind="premoderate", reason="Repeated insults"
    )

    held = services.post_comment(article=article, body="Mine.", author=user)
    other = services.post_comment(article=article, body="Theirs.", author=other_user)
    services.lift_sanction(sanction=sanction, moderator=moderator)
    later = services.post_comment(article=article, body="Mine again.", author=user)

    assert held.status == Comment.Status.PENDING
    assert held.held_because == "the author is always pre-moderated"
    assert other.status == Comment.Status.PUBLISHED
    assert later.status == Comment.Status.PUBLISHED


def test_premoderation_holds_every_readers_comment(settings, article, user):
    settings.FORUM_PREMODERATION = True

    comment = services.post_comment(article=article, body="Hello.", author=user)

    assert comment.status == Comment.Status.PENDING
    assert comment.held_because == "every comment is reviewed"


def test_every_reason_that_applies_is_given(settings, article, user):
    settings.FORUM_PREMODERATION = True
    settings.FORUM_PREMODERATE_FIRST_COMMENTS = 1
    settings.FORUM_PREMODERATE_LINKS_OVER = 0
    _lists(suspect=["spam"])

    comment = services.post_comment(
        article=article, body="Spam at https://x.example.com", author=user
    )

    assert comment.held_because == (
        "every comment is reviewed; one of a new account's first 1 comments; "
        "1 links (more than 0); suspect words: “spam”"
    )


def test_moderators_are_never_held(settings, article, moderator):
    settings.FORUM_PREMODERATION = True
    settings.FORUM_PREMODERATE_FIRST_COMMENTS = 5
    settings.FORUM_PREMODERATE_LINKS_OVER = 0
    _lists(suspect=["spam"])

    comment = services.post_comment(
        article=article, body="Spam example: https://x.example.com", author=moderator
    )

    assert comment.status == Comment.Status.PUBLISHED
    assert comment.held_because == ""
    assert not ModerationAction.objects.exists()


def test_imports_keep_the_state_they_bring(settings, article, user):
    settings.FORUM_PREMODERATION = True
    _lists(suspect=["spam"])

    comment = CommentFactory(
        article=article, author=user, body="Old spam", status="published"
    )

    assert comment.status == Comment.Status.PUBLISHED


# Edits.


def test_an_edit_adding_a_suspect_word_sends_the_comment_back_to_review(
    client, article, user
):
    _lists(suspect=["spam"])
    comment = CommentFactory(article=article, author=user, body="All fine here.")
    reader = Client()
    before = _text(reader.get(article.get_absolute_url()))
    client.force_login(user)

    response = client.post(
        comment_url("comment_edit", comment),
        {"body": "Now with SPÁM inside."},
        follow=True,
    )

    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING
    assert comment.body == "Now with SPÁM inside."
    assert comment.held_because == "suspect words: “spam”"
    action = ModerationAction.objects.get(verb="hold")
    assert (action.from_state, action.to_state) == ("published", "pending")
    assert "the new text will appear once a moderator approves it" in _text(response)
    after = _text(reader.get(article.get_absolute_url()))
    assert "All fine here." in before
    assert "SPÁM" not in after
    assert "All fine here." not in after


def test_an_edit_adding_a_banned_word_is_refused_and_keeps_the_old_text(
    client, article, user
):
    _lists(banned=["scam"])
    comment = CommentFactory(article=article, author=user, body="All fine here.")
    client.force_login(user)

    response = client.post(comment_url("comment_edit", comment), {"body": "A $cam!"})

    assert response.status_code == 400
    content = _text(response)
    assert "Your comment contains “scam”" in content
    assert element(content, "textarea").value == "A $cam!"
    comment.refresh_from_db()
    assert comment.body == "All fine here."
    assert comment.status == Comment.Status.PUBLISHED
    assert comment.edited_at is None
    assert not comment.revisions.exists()
    assert "All fine here." in _text(client.get(article.get_absolute_url()))


# The word lists in the admin.

WORDRULES = reverse("admin:forum_wordrule_changelist")
ADD_WORDRULE = reverse("admin:forum_wordrule_add")


def test_a_moderator_adds_a_word_rule_that_holds_comments_at_once(
    client, moderator, article, user
):
    client.force_login(moderator)

    response = client.post(
        ADD_WORDRULE, {"phrase": "  cheap   pills ", "kind": "suspect", "note": "Spam"}
    )

    assert response.status_code == 302
    rule = WordRule.objects.get()
    assert (rule.phrase, rule.kind, rule.created_by) == (
        "cheap pills",
        "suspect",
        moderator,
    )
    assert "cheap pills" in _text(client.get(WORDRULES))
    comment = services.post_comment(
        article=article, body="Ch\u0435ap\npills here", author=user
    )
    assert comment.held_because == "suspect words: “cheap pills”"


def test_a_moderator_changes_and_deletes_a_word_rule(client, moderator):
    rule = WordRule.objects.create(phrase="spam", kind="suspect")
    client.force_login(moderator)
    change = reverse("admin:forum_wordrule_change", args=[rule.pk])
    delete = reverse("admin:forum_wordrule_delete", args=[rule.pk])

    changed = client.post(change, {"phrase": "spam", "kind": "banned", "note": ""})
    rule.refresh_from_db()
    kind_after_change = rule.kind
    deleted = client.post(delete, {"post": "yes"})

    assert changed.status_code == 302
    assert kind_after_change == "banned"
    assert deleted.status_code == 302
    assert not WordRule.objects.exists()


def test_a_phrase_of_invisible_characters_only_is_refused(client, moderator):
    client.force_login(moderator)

    response = client.post(
        ADD_WORDRULE, {"phrase": "\u200b\u00ad", "kind": "banned", "note": ""}
    )

    assert response.status_code == 200
    assert "Write a word or a phrase." in _text(response)
    assert not WordRule.objects.exists()


def test_a_reader_cannot_reach_the_word_lists(client, user):
    rule = WordRule.objects.create(phrase="secret", kind="banned")
    client.force_login(user)

    listing = client.get(WORDRULES)
    added = client.post(ADD_WORDRULE, {"phrase": "mine", "kind": "banned"})
    deleted = client.post(
        reverse("admin:forum_wordrule_delete", args=[rule.pk]), {"post": "yes"}
    )

    # Not staff: the admin sends them to its login page.
    assert listing.status_code == added.status_code == deleted.status_code == 302
    assert reverse("admin:login") in listing["Location"]
    assert list(WordRule.objects.values_list("phrase", flat=True)) == ["secret"]


def test_staff_without_the_moderation_permission_cannot_see_the_word_lists(client):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(
            codename="view_article", content_type__app_label="articles"
        )
    )
    WordRule.objects.create(phrase="secret", kind="banned")
    client.force_login(staff)

    index = _text(client.get(reverse("admin:index")))

    assert client.get(WORDRULES).status_code == 403
    assert client.post(ADD_WORDRULE, {"phrase": "x", "kind": "banned"}).status_code == (
        403
    )
    assert WORDRULES not in index
    assert WordRule.objects.count() == 1


@pytest.mark.parametrize(
    ("listed", "text"),
    [("кла", "кла"), ("и", "й"), ("कला", "केला"), ("か", "が")],
    ids=["same-word", "cyrillic-short-i", "devanagari-vowel-sign", "kana-voicing"],
)
def test_marks_that_make_other_letters_are_kept(listed, text):
    """Found by review: stripping every mark made "й" read "и", केला read कला
    and が read か, holding innocent words."""
    lists = _lists(suspect=[listed])

    assert lists.find(text, "suspect") == ([listed] if listed == text else [])

"""Comment pages: post, reply, edit, delete, moderate; and sign-up.

Each view binds a form, calls a service, and redirects (post/redirect/get); a
service's ValidationError goes back onto the form with status 400.
"""

import logging
from functools import partial, wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from articles.models import Article

from . import limits, queue, services, thread
from .forms import (
    USERNAME_TAKEN,
    CloseCommentsForm,
    CommentForm,
    RemoveCommentForm,
    ReportForm,
    SignupForm,
)
from .models import Comment
from .transitions import MODERATE_PERMISSION

logger = logging.getLogger(__name__)

MODERATE = MODERATE_PERMISSION
# What an anonymous reader typed, with the URL of its form: one draft at a time,
# so an anonymous visitor's session holds at most one posted text.
DRAFT_SESSION_KEY = "comment_draft"


def _article(slug):
    return get_object_or_404(Article.objects.published(), slug=slug)


def _comment(request, slug, pk):
    """The article and the comment at this URL, as the viewer may know them: a
    comment they cannot see (thread.is_shown_to: a pending comment without
    replies, for anyone but its author and moderators) is a 404 on every one of
    its pages, as a missing one is, so that no answer confirms it exists."""
    article = _article(slug)
    comment = get_object_or_404(
        Comment.objects.select_related("author"), article=article, pk=pk
    )
    comment.article = article
    if not thread.is_shown_to(comment, request.user):
        raise Http404
    return article, comment


def moderators_only(view):
    """A logged-out visitor is sent to log in, and back here (the moderators'
    email links to the queue); a reader without the permission gets 403 from
    the view itself, after its 404s."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


def _comment_to_moderate(request, slug, pk):
    """As _comment(), for a moderator's page: not @permission_required, whose
    403 would come before the 404 and so tell a hidden comment from a missing
    one."""
    article, comment = _comment(request, slug, pk)
    if not request.user.has_perm(MODERATE):
        raise PermissionDenied
    return article, comment


def _forbidden(request, reason):
    """The 403 page with a reason written for the reader (error pages print no
    exception's text)."""
    return render(request, "403.html", {"reason": reason}, status=403)


def _in_thread(comment):
    return redirect(comment.get_thread_url())


def _where_it_was(article, parent_id):
    """The thread at the place of a comment this reader no longer sees."""
    if parent_id:
        return redirect(
            f"{article.get_absolute_url()}?comment={parent_id}#comment-{parent_id}"
        )
    return redirect(article.get_absolute_url() + "#comments")


def _attach(form, error):
    """Put a service's ValidationError on the form; unknown fields go on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _log_in_first(request):
    """Send an anonymous reader to log in, and then back to this form.

    Not @login_required: a reader whose session ran out while typing posts as
    anonymous, and the text must not be lost. It waits in the session (login()
    keeps session data, and so does signing up) until the form shows it again.
    CsrfViewMiddleware has checked the POST already, as for anyone.
    """
    body = request.POST.get("body", "") if request.method == "POST" else ""
    if body.strip():
        request.session[DRAFT_SESSION_KEY] = {"url": request.path, "body": body}
        messages.info(request, "Log in to post your comment; we kept what you wrote.")
    elif request.method == "POST":
        messages.info(request, "Log in to post your comment.")
    return redirect_to_login(request.path)


def _comment_form(request):
    """The posted form, or a blank one holding the draft kept for this page."""
    if request.method == "POST":
        return CommentForm(request.POST)
    draft = request.session.get(DRAFT_SESSION_KEY) or {}
    if draft.get("url") == request.path:
        return CommentForm(initial={"body": draft["body"]})
    return CommentForm()


def _forget_draft(request):
    draft = request.session.get(DRAFT_SESSION_KEY) or {}
    if draft.get("url") == request.path:
        del request.session[DRAFT_SESSION_KEY]


def _refused_quietly(request):
    """A form sent with its honeypot filled (forum/forms.py): a script's.
    Nothing is written, and the page does not say what gave it away."""
    logger.info("honeypot: %s refused", request.path)
    return render(request, "400.html", status=400)


def _too_soon(request, template, context, *, wait, message):
    """Over a rate limit (forum/limits.py): the form again, with what was
    typed and when to try again (429, with Retry-After)."""
    context["form"].add_error(
        None, f"{message} Try again in {limits.wait_in_words(wait)}."
    )
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(wait)
    return response


POSTING_TOO_FAST = (
    "You are posting faster than this forum allows. Your text is kept below."
)


def comment_create(request, slug):
    """The article page posts here; on its own (GET) this page shows the form,
    and after a refused post the text with what is wrong (400), at a URL that
    still answers when the reader reloads or comes back."""
    article = _article(slug)
    if not request.user.is_authenticated:
        return _log_in_first(request)
    form = _comment_form(request)
    if form.caught_by_honeypot:
        return _refused_quietly(request)
    if request.method == "POST" and form.is_valid():
        wait = limits.check(request, "post")
        if wait is not None:
            return _too_soon(
                request,
                "forum/comment_create.html",
                {"article": article, "form": form},
                wait=wait,
                message=POSTING_TOO_FAST,
            )
        try:
            comment = services.post_comment(
                article=article, body=form.cleaned_data["body"], author=request.user
            )
        except ValidationError as error:
            _attach(form, error)
        except services.PostingBarred as barred:
            return _barred(
                request, form, barred, "forum/comment_create.html", {"article": article}
            )
        else:
            _forget_draft(request)
            _posted_message(request, comment)
            return _in_thread(comment)
    status = 400 if request.method == "POST" else 200
    context = {"article": article, "form": form}
    return render(request, "forum/comment_create.html", context, status=status)


def comment_reply(request, slug, pk):
    article, parent = _comment(request, slug, pk)
    if not request.user.is_authenticated:
        return _log_in_first(request)
    form = _comment_form(request)
    if form.caught_by_honeypot:
        return _refused_quietly(request)
    if request.method == "POST" and form.is_valid():
        wait = limits.check(request, "post")
        if wait is not None:
            return _too_soon(
                request,
                "forum/comment_reply.html",
                {
                    "article": article,
                    "comment": parent,
                    "comment_html": thread.fragment_for_viewer(parent, request.user),
                    "form": form,
                },
                wait=wait,
                message=POSTING_TOO_FAST,
            )
        try:
            comment = services.post_comment(
                article=article,
                body=form.cleaned_data["body"],
                parent=parent,
                author=request.user,
            )
        except ValidationError as error:
            _attach(form, error)
        except services.PostingBarred as barred:
            return _barred(
                request,
                form,
                barred,
                "forum/comment_reply.html",
                {
                    "article": article,
                    "comment": parent,
                    "comment_html": thread.fragment_for_viewer(parent, request.user),
                },
            )
        else:
            _forget_draft(request)
            _posted_message(request, comment)
            return _in_thread(comment)
    status = 400 if request.method == "POST" else 200
    context = {
        "article": article,
        "comment": parent,
        "comment_html": thread.fragment_for_viewer(parent, request.user),
        "form": form,
    }
    return render(request, "forum/comment_reply.html", context, status=status)


def _barred(request, form, barred, template, context):
    """A suspended or banned author: the form again, with their text and the
    sanction's end and reason (403)."""
    form.add_error(None, str(barred))
    return render(request, template, {**context, "form": form}, status=403)


def _posted_message(request, comment):
    if comment.status == Comment.Status.PENDING:
        messages.info(
            request, "Thanks: your comment will appear once a moderator approves it."
        )
    else:
        messages.success(request, "Your comment is posted.")


def comment_detail(request, slug, pk):
    """A comment's own page: the comment with every action the viewer may take,
    and its replies (from the ``offset``-th on: "show N more replies")."""
    article, comment = _comment(request, slug, pk)
    try:
        offset = max(int(request.GET.get("offset", 0)), 0)
    except ValueError:
        raise Http404("offset must be a number.") from None
    context = {
        "article": article,
        "comment": comment,
        "subtree": thread.subtree(comment=comment, user=request.user, offset=offset),
        "actions": thread.comment_actions(comment, request.user),
        "offset": offset,
        "parent_id": comment.parent_id,
    }
    return render(request, "forum/comment_detail.html", context)


@login_required
def comment_edit(request, slug, pk):
    article, comment = _comment(request, slug, pk)
    # Before the form: whoever may not edit gets 403, whatever they sent.
    if not comment.is_editable_by(request.user):
        return _forbidden(request, services.EDIT_DENIED)
    if request.method == "POST":
        form = CommentForm(request.POST)
        if form.caught_by_honeypot:
            return _refused_quietly(request)
        if form.is_valid():
            try:
                services.edit_comment(
                    comment=comment, editor=request.user, body=form.cleaned_data["body"]
                )
            except ValidationError as error:
                _attach(form, error)
            except services.PostingBarred as barred:
                return _barred(
                    request,
                    form,
                    barred,
                    "forum/comment_edit.html",
                    {"article": article, "comment": comment},
                )
            else:
                if comment.status == Comment.Status.PENDING:
                    messages.info(
                        request,
                        "Your comment is updated; the new text will appear once "
                        "a moderator approves it.",
                    )
                else:
                    messages.success(request, "Your comment is updated.")
                return _in_thread(comment)
        status = 400
    else:
        form = CommentForm(initial={"body": comment.body})
        status = 200
    context = {"article": article, "comment": comment, "form": form}
    return render(request, "forum/comment_edit.html", context, status=status)


@login_required
def comment_delete(request, slug, pk):
    article, comment = _comment(request, slug, pk)
    if comment.author_id != request.user.pk or comment.is_hidden:
        return _forbidden(request, services.DELETE_DENIED)
    if request.method == "POST":
        parent_id = comment.parent_id
        services.delete_comment(comment=comment, user=request.user)
        messages.success(request, "Your comment is deleted.")
        return _where_it_was(article, parent_id)
    context = {"article": article, "comment": comment}
    return render(request, "forum/comment_delete.html", context)


@moderators_only
def comment_remove(request, slug, pk):
    article, comment = _comment_to_moderate(request, slug, pk)
    form = RemoveCommentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.remove_comment(
                comment=comment,
                moderator=request.user,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, "The comment is removed.")
            return _in_thread(comment)
    status = 400 if request.method == "POST" else 200
    context = {"article": article, "comment": comment, "form": form}
    return render(request, "forum/comment_remove.html", context, status=status)


@login_required
def comment_report(request, slug, pk):
    """A reader tells moderators what is wrong with a comment: GET asks, POST
    reports."""
    article, comment = _comment(request, slug, pk)
    form = ReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        wait = limits.check(request, "report")
        if wait is not None:
            return _too_soon(
                request,
                "forum/comment_report.html",
                {
                    "article": article,
                    "comment": comment,
                    "form": form,
                    "threshold": settings.FORUM_REPORT_THRESHOLD,
                },
                wait=wait,
                message="You are sending reports faster than this forum allows.",
            )
        try:
            hidden = services.report_comment(
                comment=comment,
                reporter=request.user,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(
                request,
                "Thank you: the comment is hidden until a moderator reviews it."
                if hidden
                else "Thank you: moderators will review the comment.",
            )
            if hidden:
                comment.status = Comment.Status.PENDING
            if not thread.is_shown_to(comment, request.user):
                # A hidden leaf is gone from the thread for readers: ?comment=
                # would lead them to its page, a 404 for them.
                return _where_it_was(article, comment.parent_id)
            return _in_thread(comment)
    status = 400 if request.method == "POST" else 200
    context = {
        "article": article,
        "comment": comment,
        "form": form,
        "threshold": settings.FORUM_REPORT_THRESHOLD,
        # A reader who reported it sees that, and where it stands.
        "reported": comment.reports.filter(reporter=request.user).first(),
    }
    return render(request, "forum/comment_report.html", context, status=status)


def _confirmed_moderation(request, slug, pk, *, service, done, template):
    """GET shows what will happen, POST does it."""
    article, comment = _comment_to_moderate(request, slug, pk)
    error = None
    if request.method == "POST":
        try:
            service(comment=comment, moderator=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, done)
            return _in_thread(comment)
    context = {"article": article, "comment": comment, "error": error}
    return render(request, template, context, status=400 if error else 200)


def _confirmed(verb, *, service, done):
    """The view of a moderator action with a confirmation page: GET asks
    (forum/comment_<verb>.html), POST calls ``service`` and says ``done``."""

    @moderators_only
    def view(request, slug, pk):
        return _confirmed_moderation(
            request,
            slug,
            pk,
            service=service,
            done=done,
            template=f"forum/comment_{verb}.html",
        )

    view.__name__ = view.__qualname__ = f"comment_{verb}"
    return view


comment_approve = _confirmed(
    "approve", service=services.approve_comment, done="The comment is approved."
)
comment_restore = _confirmed(
    "restore", service=services.restore_comment, done="The comment is restored."
)
comment_dismiss = _confirmed(
    "dismiss",
    service=services.dismiss_reports,
    done="The comment stays; its reports are answered.",
)
comment_pin = _confirmed(
    "pin",
    service=services.pin_comment,
    done="The comment is pinned at the top of the thread.",
)
comment_unpin = _confirmed(
    "unpin",
    service=partial(services.pin_comment, pinned=False),
    done="The comment is no longer pinned.",
)
comment_lock = _confirmed(
    "lock",
    service=services.lock_replies,
    done="Replies are locked here and below.",
)
comment_unlock = _confirmed(
    "unlock",
    service=partial(services.lock_replies, locked=False),
    done="Replies are open again here and below.",
)


@moderators_only
@permission_required(MODERATE, raise_exception=True)
def comments_close(request, slug):
    """Lock the article's thread: no new comments or replies, with a message
    where the form was. GET asks, POST closes."""
    article = _article(slug)
    form = CloseCommentsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.close_comments(
            article=article,
            moderator=request.user,
            message=form.cleaned_data["message"],
        )
        messages.success(request, "The discussion is closed.")
        return redirect(article.get_absolute_url() + "#comments")
    status = 400 if request.method == "POST" else 200
    context = {"article": article, "form": form}
    return render(request, "forum/comments_close.html", context, status=status)


@moderators_only
@permission_required(MODERATE, raise_exception=True)
def comments_reopen(request, slug):
    article = _article(slug)
    if request.method == "POST":
        services.reopen_comments(article=article, moderator=request.user)
        messages.success(request, "The discussion is open again.")
        return redirect(article.get_absolute_url() + "#comments")
    return render(request, "forum/comments_reopen.html", {"article": article})


@moderators_only
@permission_required(MODERATE, raise_exception=True)
def moderation_queue(request):
    """What waits for a moderator, with what it takes to decide."""
    return render(
        request, "forum/moderation_queue.html", {"sections": queue.sections()}
    )


def signup(request):
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    form = SignupForm(request.POST or None)
    if form.caught_by_honeypot:
        return _refused_quietly(request)
    if request.method == "POST" and form.is_valid():
        wait = limits.check(request, "signup")
        if wait is not None:
            return _too_soon(
                request,
                "registration/signup.html",
                {"form": form, "next": next_url},
                wait=wait,
                message="Too many accounts were made from your address just now.",
            )
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:
            # Another sign-up took this name, or one that looks like it, since
            # the form was checked (the unique name and UsernameKey.key).
            form.add_error("username", USERNAME_TAKEN)
        else:
            # Just made, with its password: no backend to ask (axes is one).
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.get_username()}.")
            return redirect(next_url)
    return render(
        request,
        "registration/signup.html",
        {"form": form, "next": next_url},
        status=400 if request.method == "POST" else 200,
    )

"""Moderation in the admin: every action goes through forum/services/.

The tree columns and the parent link are read-only here, and hard deletes are
off: removing is a soft delete, and a deleted row would take its replies along.
"""

import csv
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from . import queue, services
from .forms import USERNAME_TAKEN, UsernameRulesMixin
from .models import (
    Comment,
    CommentRevision,
    ModerationAction,
    Report,
    Sanction,
    WordRule,
)
from .transitions import can_moderate


class ModerationActionForm(ActionForm):
    # Checked by the action (and the service), which says what is missing
    # rather than the admin's generic "no action selected".
    reason = forms.CharField(
        required=False,
        widget=forms.Select(choices=[("", "Reason…"), *Comment.RemovalReason.choices]),
        label="Reason",
        help_text="Required to remove comments.",
    )
    note = forms.CharField(
        required=False,
        max_length=500,
        label="Note",
        help_text="For moderators; required with “other”.",
    )


def _bulk(modeladmin, request, queryset, *, verb, done, reason=None, note=""):
    """Carry out ``verb`` on the selected comments in one transaction
    (services.moderate_comments) and say what changed and what did not."""
    try:
        result = services.moderate_comments(
            comment_ids=list(queryset.values_list("pk", flat=True)),
            moderator=request.user,
            verb=verb,
            reason=reason,
            note=note,
        )
    except ValidationError as error:
        modeladmin.message_user(request, " ".join(error.messages), messages.ERROR)
        return
    if result.done:
        count = len(result.done)
        noun = "comment" if count == 1 else "comments"
        modeladmin.message_user(request, f"{count} {noun} {done}.", messages.SUCCESS)
    if result.refused:
        refused = [f"#{pk}: {why}" for pk, why in sorted(result.refused.items())]
        modeladmin.message_user(
            request,
            f"{len(refused)} left as they were: " + "; ".join(refused[:10]),
            messages.WARNING,
        )


class RevisionInline(admin.TabularInline):
    """Earlier versions of an edited comment, newest first; read-only."""

    model = CommentRevision
    fields = ["written_at", "replaced_at", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "earlier version"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return can_moderate(request.user)


class ModeratorsRecordAdmin(admin.ModelAdmin):
    """Moderators read these records; nobody edits or deletes them here (every
    change goes through forum/services/)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return can_moderate(request.user) or super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(Comment)
class CommentAdmin(ModeratorsRecordAdmin):
    action_form = ModerationActionForm
    inlines = [RevisionInline]
    actions = [
        "approve",
        "remove",
        "mark_spam",
        "restore",
        "pin",
        "unpin",
        "lock",
        "unlock",
    ]
    # Newest first, and narrow enough for 1440 px: where a comment sits is
    # its parent's excerpt and a link to its place in the thread.
    list_display = [
        "excerpt_column",
        "author_column",
        "status",
        "reason_column",
        "created_at",
        "parent_column",
        "thread_link",
    ]
    ordering = ["-created_at", "-pk"]
    list_filter = ["status", "article"]
    list_select_related = ["article", "author", "parent"]
    search_fields = ["body", "author_name", "author__username", "moderation_reason"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "article",
        "parent",
        "author",
        "author_name",
        "body",
        "rendered",
        "status",
        "created_at",
        "edited_at",
        "moderated_by",
        "moderated_at",
        "moderation_code",
        "moderation_reason",
        "history",
        "author_record",
        "held_because",
        "pinned_at",
        "replies_locked_at",
        "source_key",
        "thread_link",
    ]
    fields = readonly_fields
    list_per_page = 50

    @admin.display(description="Comment")
    def excerpt_column(self, obj):
        return obj.excerpt(100)

    @admin.display(description="Author", ordering="author_name")
    def author_column(self, obj):
        return obj.display_name

    @admin.display(description="Reason", ordering="moderation_code")
    def reason_column(self, obj):
        return obj.moderation_summary or "—"

    @admin.display(description="Replies to")
    def parent_column(self, obj):
        if obj.parent_id is None:
            return format_html("— <small>{}</small>", obj.article)
        url = reverse("admin:forum_comment_change", args=[obj.parent_id])
        return format_html(
            '<a href="{}">#{}</a> {}', url, obj.parent_id, obj.parent.excerpt(40)
        )

    @admin.display(description="In the thread")
    def thread_link(self, obj):
        return format_html('<a href="{}">view</a>', obj.get_thread_url())

    @admin.display(description="Moderation history")
    def history(self, obj):
        count = ModerationAction.objects.filter(comment_number=obj.pk).count()
        url = reverse("admin:forum_moderationaction_changelist")
        return format_html(
            '<a href="{}?comment_number={}">{} recorded act{}</a>',
            url,
            obj.pk,
            count,
            "" if count == 1 else "s",
        )

    @admin.display(description="The author's record")
    def author_record(self, obj):
        if obj.author_id is None:
            return "—"
        record = queue.author_records({obj.author_id})[obj.author_id]
        comments = reverse("admin:forum_comment_changelist")
        sanctions = reverse("admin:forum_sanction_changelist")
        log = reverse("admin:forum_moderationaction_changelist")
        return format_html(
            '<a href="{}?author={}">{} comment{}</a>, {} removed or spam, '
            '{} report{} against them; <a href="{}?user={}">sanctions</a>, '
            '<a href="{}?comment__author={}">moderation log</a>',
            comments,
            obj.author_id,
            record.comments,
            "" if record.comments == 1 else "s",
            record.hidden,
            record.reported,
            "" if record.reported == 1 else "s",
            sanctions,
            obj.author_id,
            log,
            obj.author_id,
        )

    @admin.display(description="As shown")
    def rendered(self, obj):
        # body_html was sanitised when written: forum/markup.py.
        return format_html("<div>{}</div>", mark_safe(obj.body_html))

    def has_moderate_permission(self, request):
        return can_moderate(request.user)

    @admin.action(description="Approve selected comments", permissions=["moderate"])
    def approve(self, request, queryset):
        _bulk(self, request, queryset, verb="approve", done="approved")

    @admin.action(
        description="Remove selected comments (give a reason)",
        permissions=["moderate"],
    )
    def remove(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(
                request,
                "Nothing removed: choose the reason in the Reason box, then run "
                "the action again.",
                messages.ERROR,
            )
            return
        _bulk(
            self,
            request,
            queryset,
            verb="remove",
            done="removed",
            reason=reason,
            note=request.POST.get("note", ""),
        )

    @admin.action(
        description="Mark selected comments as spam", permissions=["moderate"]
    )
    def mark_spam(self, request, queryset):
        note = request.POST.get("note", "")
        _bulk(self, request, queryset, verb="spam", done="marked as spam", note=note)

    @admin.action(description="Restore selected comments", permissions=["moderate"])
    def restore(self, request, queryset):
        _bulk(self, request, queryset, verb="restore", done="restored")

    def _each(self, request, queryset, call, done):
        changed, refused = 0, []
        for comment in queryset:
            try:
                call(comment=comment, moderator=request.user)
            except ValidationError as error:
                refused.append(f"#{comment.pk}: {' '.join(error.messages)}")
            else:
                changed += 1
        if changed:
            self.message_user(request, f"{changed} {done}.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"{len(refused)} left as they were: " + "; ".join(refused[:10]),
                messages.WARNING,
            )

    @admin.action(description="Pin selected comments", permissions=["moderate"])
    def pin(self, request, queryset):
        self._each(request, queryset, services.pin_comment, "pinned")

    @admin.action(description="Unpin selected comments", permissions=["moderate"])
    def unpin(self, request, queryset):
        call = partial(services.pin_comment, pinned=False)
        self._each(request, queryset, call, "unpinned")

    @admin.action(
        description="Lock replies under selected comments", permissions=["moderate"]
    )
    def lock(self, request, queryset):
        self._each(request, queryset, services.lock_replies, "locked to replies")

    @admin.action(
        description="Unlock replies under selected comments", permissions=["moderate"]
    )
    def unlock(self, request, queryset):
        call = partial(services.lock_replies, locked=False)
        self._each(request, queryset, call, "open to replies again")


@admin.register(ModerationAction)
class ModerationActionAdmin(ModeratorsRecordAdmin):
    """The moderation log: read-only, filterable by moderator, verb and state;
    per comment through ?comment_number=, per moderator through the actor
    filter, per author through ?comment__author=<user id> (linked from a
    comment's "author's record"); exportable as CSV."""

    list_display = [
        "created_at",
        "actor",
        "verb",
        "from_state",
        "to_state",
        "reason",
        "note",
        "comment_link",
        "article",
    ]
    list_filter = ["verb", "to_state", "actor", "article"]
    search_fields = ["note", "actor__username", "=comment_number"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "article"]
    actions = ["export_csv"]

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "comment__author" or super().lookup_allowed(
            lookup, value, request
        )

    @admin.display(description="Comment", ordering="comment_number")
    def comment_link(self, obj):
        if obj.comment_id is None:
            return f"#{obj.comment_number} (gone)"
        url = reverse("admin:forum_comment_change", args=[obj.comment_id])
        return format_html('<a href="{}">#{}</a>', url, obj.comment_number)

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    @admin.action(description="Export selected acts as CSV", permissions=["export"])
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="moderation-log.csv"'
        writer = csv.writer(response)
        writer.writerow(
            [
                "when",
                "moderator",
                "verb",
                "from",
                "to",
                "reason",
                "note",
                "comment",
                "article",
            ]
        )
        for act in queryset.select_related("actor", "article"):
            writer.writerow(
                [
                    act.created_at.isoformat(),
                    act.actor.get_username() if act.actor else "",
                    act.verb,
                    act.from_state,
                    act.to_state,
                    act.reason,
                    act.note,
                    act.comment_number,
                    act.article.slug if act.article else "",
                ]
            )
        return response


@admin.register(Report)
class ReportAdmin(ModeratorsRecordAdmin):
    """Readers' reports, newest first; answered when a moderator decides on the
    comment. Read-only: decisions go through the comment actions."""

    list_display = [
        "created_at",
        "reason",
        "note",
        "comment_link",
        "reporter",
        "resolved_at",
    ]
    list_filter = ["reason", ("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["comment", "reporter"]
    search_fields = ["note", "reporter__username", "=comment__id"]

    @admin.display(description="Comment")
    def comment_link(self, obj):
        url = reverse("admin:forum_comment_change", args=[obj.comment_id])
        return format_html(
            '<a href="{}">#{}</a> {}', url, obj.comment_id, obj.comment.excerpt(50)
        )


class SanctionForm(forms.ModelForm):
    class Meta:
        model = Sanction
        fields = ["user", "kind", "reason", "until"]

    def clean(self):
        data = super().clean()
        if not self.errors:
            services.check_sanction(
                user=data["user"],
                kind=data["kind"],
                reason=data["reason"],
                until=data.get("until"),
            )
        return data


@admin.register(Sanction)
class SanctionAdmin(ModeratorsRecordAdmin):
    """Warn, pre-moderate, suspend or ban a user; made and lifted through
    forum/services/, never edited."""

    list_display = [
        "user",
        "kind",
        "reason",
        "until",
        "created_by",
        "created_at",
        "lifted_at",
    ]
    list_filter = ["kind", ("lifted_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "reason"]
    list_select_related = ["user", "created_by"]
    autocomplete_fields = ["user"]
    form = SanctionForm
    fields = ["user", "kind", "reason", "until"]
    actions = ["lift"]

    def has_add_permission(self, request):
        return can_moderate(request.user)

    def has_lift_permission(self, request):
        return can_moderate(request.user)

    def save_model(self, request, obj, form, change):
        # Checked by the form (services.check_sanction); made by the service.
        obj.pk = services.sanction_user(
            user=obj.user,
            moderator=request.user,
            kind=obj.kind,
            reason=obj.reason,
            until=obj.until,
        ).pk

    @admin.action(description="Lift selected sanctions", permissions=["lift"])
    def lift(self, request, queryset):
        for sanction in queryset:
            services.lift_sanction(sanction=sanction, moderator=request.user)
        self.message_user(request, "Lifted.", messages.SUCCESS)


@admin.register(WordRule)
class WordRuleAdmin(admin.ModelAdmin):
    """The suspect and banned words (forum/screening.py); moderators keep the
    lists."""

    list_display = ["phrase", "kind", "note", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["phrase", "note"]
    fields = ["phrase", "kind", "note"]

    def _moderator(self, request):
        return can_moderate(request.user)

    def has_module_permission(self, request):
        return self._moderator(request)

    def has_view_permission(self, request, obj=None):
        return self._moderator(request)

    def has_add_permission(self, request):
        return self._moderator(request)

    def has_change_permission(self, request, obj=None):
        return self._moderator(request)

    def has_delete_permission(self, request, obj=None):
        return self._moderator(request)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


# Users: Django's admin, with the sign-up form's rules on a new or changed name
# (forum/forms.py, validate_new_username), so staff cannot make a look-alike
# of an existing name either. Email addresses stay the staff's to set: the
# admin does not hold them to one account each. Code that makes users without
# a form (createsuperuser, ensure_admin, User.objects.create_user) is not held
# to the rules.
class UserCreationAdminForm(UsernameRulesMixin, auth_forms.AdminUserCreationForm):
    pass


class UserChangeAdminForm(UsernameRulesMixin, auth_forms.UserChangeForm):
    pass


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    add_form = UserCreationAdminForm
    form = UserChangeAdminForm

    # Moderators look users up (the sanction form's user box asks the admin's
    # autocomplete, which needs this) and read them; changing them stays with
    # whoever holds auth's own permissions.
    def has_view_permission(self, request, obj=None):
        return can_moderate(request.user) or super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return self.has_view_permission(request) or super().has_module_permission(
            request
        )

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except IntegrityError:
            # The form's check passed, then another account took the name or
            # one that looks like it (UsernameKey) before this one was saved.
            self.message_user(request, USERNAME_TAKEN, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

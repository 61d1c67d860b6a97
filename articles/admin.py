"""Editors manage articles in the admin; imports use the management commands."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm

from forum.models import Comment, Report
from forum.services import (
    close_comments,
    delete_article,
    refresh_article_fragments,
    reopen_comments,
)
from forum.transitions import can_moderate

from .models import Article


class CloseCommentsForm(ActionForm):
    message = forms.CharField(
        required=False,
        max_length=300,
        label="Message",
        help_text="Shown where the comment form was, when closing.",
    )


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    action_form = CloseCommentsForm
    actions = ["unpublish", "close_comments", "reopen_comments"]
    list_display = ["title", "slug", "published_at", "is_live", "lead_author"]
    search_fields = ["title", "body", "lead"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = [
        "source_key",
        "source_origin",
        "body_format",
        "created_at",
        "updated_at",
        "comments_closed_at",
        "comments_closed_message",
    ]
    date_hierarchy = "published_at"

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(
            objs, request
        )
        # Its comments and their reports go with the article through
        # forum.services.delete_article; nobody deletes them one by one.
        going_along = {Comment._meta.verbose_name, Report._meta.verbose_name}
        return deleted, counts, perms_needed - going_along, protected

    def delete_model(self, request, obj):
        delete_article(article=obj)

    def delete_queryset(self, request, queryset):
        for article in queryset:
            delete_article(article=article)

    def save_model(self, request, obj, form, change):
        if "body" in form.changed_data:
            obj.body_html = obj.rendered_body()
        super().save_model(request, obj, form, change)
        if change and "slug" in form.changed_data:
            # Stored comment fragments link to the article's old address.
            refresh_article_fragments(article=obj)

    @admin.display(boolean=True, description="Published")
    def is_live(self, obj):
        return obj.is_published

    @admin.action(
        description="Unpublish selected articles (publish again by setting a date)",
        permissions=["change"],
    )
    def unpublish(self, request, queryset):
        # Readers get 404 for the article and its comment pages; the thread
        # stays as it is, ready for when the article is published again.
        count = queryset.filter(published_at__isnull=False).update(published_at=None)
        self.message_user(
            request,
            f"{count} article{'s' * (count != 1)} unpublished.",
            messages.SUCCESS,
        )

    def has_moderate_permission(self, request):
        return can_moderate(request.user)

    # Moderators see the articles, to close and reopen their discussions.
    def has_view_permission(self, request, obj=None):
        return can_moderate(request.user) or super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return self.has_view_permission(request) or super().has_module_permission(
            request
        )

    @admin.action(
        description="Close the discussion of selected articles",
        permissions=["moderate"],
    )
    def close_comments(self, request, queryset):
        message = request.POST.get("message", "")
        for article in queryset:
            close_comments(article=article, moderator=request.user, message=message)
        self.message_user(request, "Discussion closed.", messages.SUCCESS)

    @admin.action(
        description="Reopen the discussion of selected articles",
        permissions=["moderate"],
    )
    def reopen_comments(self, request, queryset):
        for article in queryset:
            reopen_comments(article=article, moderator=request.user)
        self.message_user(request, "Discussion reopened.", messages.SUCCESS)

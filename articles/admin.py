"""Editors manage articles in the admin; imports use the management commands."""

from django.contrib import admin

from forum.models import Comment, Report
from forum.services import delete_article, refresh_article_fragments

from .models import Article


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "published_at", "lead_author"]
    search_fields = ["title", "body", "lead"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["source_key", "created_at", "updated_at"]
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
        super().save_model(request, obj, form, change)
        if change and "slug" in form.changed_data:
            # Stored comment fragments link to the article's old address.
            refresh_article_fragments(article=obj)

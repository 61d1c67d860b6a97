"""Editors manage articles in the admin; imports use the management commands."""

from django.contrib import admin

from forum.services import refresh_article_fragments

from .models import Article


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "published_at", "lead_author"]
    search_fields = ["title", "body", "lead"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["source_key", "created_at", "updated_at"]
    date_hierarchy = "published_at"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "slug" in form.changed_data:
            # Stored comment fragments link to the article's old address.
            refresh_article_fragments(article=obj)

"""URLs for benchmarks/settings.py: the site's, plus django-comments-xtd's own
(its templates reverse them) and the peer's article page."""

from django.urls import include, path

from benchmarks import peer
from config.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("peer/<slug:slug>/", peer.article_detail, name="peer_article_detail"),
    path("comments/", include("django_comments_xtd.urls")),
    *site_urlpatterns,
]

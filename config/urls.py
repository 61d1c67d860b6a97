"""Root URL configuration."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from forum import password_reset
from forum import views as forum_views

admin.site.site_header = "Forum moderation"
admin.site.site_title = "Forum moderation"
# The comment list needs the width more than the sidebar does.
admin.site.enable_nav_sidebar = False

# A database outage answers 503, other failures 500 (config/errors.py).
handler500 = "config.errors.server_error"

urlpatterns = [
    # Browsers and crawlers ask for /favicon.ico whatever the page links to.
    # Lazy: the static URL (hashed in production) is known only once
    # collectstatic has run, not when this module is imported.
    path(
        "favicon.ico",
        RedirectView.as_view(url=lazy(static, str)("favicon.svg"), permanent=False),
    ),
    path("admin/", admin.site.urls),
    path("accounts/signup/", forum_views.signup, name="signup"),
    path("moderation/", forum_views.moderation_queue, name="moderation_queue"),
    # Before Django's own: the same URL and name, limited per address.
    path(
        "accounts/password_reset/",
        password_reset.password_reset,
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("articles/<slug:slug>/comments/", include("forum.urls")),
    path("", include("articles.urls")),
]

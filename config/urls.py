"""Root URL configuration."""

from django.contrib import admin
from django.urls import include, path

from forum import views as forum_views

admin.site.site_header = "Forum moderation"
admin.site.site_title = "Forum moderation"
# The comment list needs the width more than the sidebar does.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/signup/", forum_views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("articles/<slug:slug>/comments/", include("forum.urls")),
    path("", include("articles.urls")),
]

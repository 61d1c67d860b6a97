"""URLs for comments, below /articles/<slug>/comments/."""

from django.urls import path

from . import views

app_name = "forum"

urlpatterns = [
    path("", views.comment_create, name="comment_create"),
    path("close/", views.comments_close, name="comments_close"),
    path("reopen/", views.comments_reopen, name="comments_reopen"),
    path("<int:pk>/", views.comment_detail, name="comment_detail"),
    path("<int:pk>/reply/", views.comment_reply, name="comment_reply"),
    path("<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("<int:pk>/delete/", views.comment_delete, name="comment_delete"),
    path("<int:pk>/report/", views.comment_report, name="comment_report"),
    path("<int:pk>/remove/", views.comment_remove, name="comment_remove"),
    path("<int:pk>/approve/", views.comment_approve, name="comment_approve"),
    path("<int:pk>/restore/", views.comment_restore, name="comment_restore"),
    path("<int:pk>/dismiss/", views.comment_dismiss, name="comment_dismiss"),
    path("<int:pk>/pin/", views.comment_pin, name="comment_pin"),
    path("<int:pk>/unpin/", views.comment_unpin, name="comment_unpin"),
    path("<int:pk>/lock/", views.comment_lock, name="comment_lock"),
    path("<int:pk>/unlock/", views.comment_unlock, name="comment_unlock"),
]

"""Keeps stored comment fragments true when something outside the forum that
they show changes: a user's name (edited in the admin, or by any code)."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from . import services

User = get_user_model()


@receiver(pre_save, sender=User, dispatch_uid="forum-remember-username")
def remember_username(sender, instance, update_fields=None, **kwargs):
    if instance.pk is None or (
        update_fields is not None and User.USERNAME_FIELD not in update_fields
    ):
        # New, or a save that cannot change the name (a login's last_login).
        instance._forum_old_username = None
        return
    instance._forum_old_username = (
        User.objects.filter(pk=instance.pk)
        .values_list(User.USERNAME_FIELD, flat=True)
        .first()
    )


@receiver(post_save, sender=User, dispatch_uid="forum-refresh-author-fragments")
def refresh_fragments_on_rename(sender, instance, created, **kwargs):
    old = getattr(instance, "_forum_old_username", None)
    if not created and old is not None and old != instance.get_username():
        services.refresh_author_fragments(user=instance)

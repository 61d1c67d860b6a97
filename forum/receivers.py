"""Keeps what the forum stores about a user's name true when the name
changes, in the admin or by any code: the comment fragments that show it, and
the look of the name that keeps look-alikes apart."""

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
    renamed = not created and old is not None and old != instance.get_username()
    if created or renamed:
        # Strict for a name a form held to the rules (forum/forms.py): a
        # look-alike that got in first refuses this one.
        services.claim_username(
            user=instance, strict=getattr(instance, "_forum_name_rules", False)
        )
    if renamed:
        services.refresh_author_fragments(user=instance)

"""factory_boy factories; comments are made through forum.services.post_comment,
so tests walk the real, locked write path."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from articles.models import Article
from forum import services
from forum.models import Comment

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"reader{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Article number {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    lead = "An editor's note."
    lead_author = "Editor"
    body = "First paragraph of the article.\nSecond paragraph."
    source_key = factory.Sequence(lambda n: f"test:{n}")
    published_at = factory.LazyFunction(timezone.now)


class CommentFactory(factory.Factory):
    """Builds comments with post_comment; pass parent= for a reply."""

    class Meta:
        model = Comment

    article = factory.SubFactory(ArticleFactory)
    body = factory.Sequence(lambda n: f"Comment number {n}.")
    parent = None
    author = factory.SubFactory(UserFactory)
    status = None

    @classmethod
    def _create(cls, model_class, *, article, body, parent, author, status, **kwargs):
        if parent is not None:
            article = parent.article
        return services.post_comment(
            article=article,
            body=body,
            parent=parent,
            author=author,
            status=status,
            **kwargs,
        )

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError("Comments are only made through services.post_comment.")

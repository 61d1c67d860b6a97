"""Model fields for text the database can always store, whoever writes it:
Comment's and Article's text."""

from django.db import models

from .markup import without_lone_surrogates


class _Encodable:
    """A text field the database can always store: a lone surrogate (which
    neither SQLite's nor PostgreSQL's driver can encode) becomes U+FFFD on its
    way in, in saves, updates and lookups alike (get_prep_value calls
    to_python), so an importer, admin or service call with one cannot end in
    a 500."""

    def to_python(self, value):
        value = super().to_python(value)
        return value if value is None else without_lone_surrogates(value)

    def deconstruct(self):
        # The same column as Django's own field: no migration for the difference.
        name, _path, args, kwargs = super().deconstruct()
        django_field = next(
            cls for cls in type(self).__mro__ if cls.__module__.startswith("django.")
        )
        return name, f"django.db.models.{django_field.__name__}", args, kwargs


class EncodableCharField(_Encodable, models.CharField):
    pass


class EncodableTextField(_Encodable, models.TextField):
    pass


class EncodableSlugField(_Encodable, models.SlugField):
    pass


class EncodableURLField(_Encodable, models.URLField):
    pass

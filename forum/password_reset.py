"""Password reset by email: Django's pages (django.contrib.auth.urls, in the
site's style through templates/registration/), with the request limited per
address and the email sent in the background.

Not in forum/views.py, which holds the comment pages and sign-up: this wraps
Django's class-based view rather than being one of the site's own.
"""

from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.core.mail import send_mail
from django.template import loader
from django_tasks import task

from . import limits

TOO_MANY_RESETS = "Too many password resets were asked for from your address just now."


@task()
def send_password_reset_email(*, subject, body, to):
    send_mail(subject, body, None, [to])


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Sends the email as a background task: the page answers as fast for an
    address that has an account as for one that has none (no timing tells
    them apart), and a mail server that is slow or away costs no request."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = "".join(
            loader.render_to_string(subject_template_name, context).splitlines()
        )
        body = loader.render_to_string(email_template_name, context)
        send_password_reset_email.enqueue(subject=subject, body=body, to=to_email)


class PasswordResetView(auth_views.PasswordResetView):
    """Every address gets the same "done" page, whether an account has it or
    not (Django's behaviour); over FORUM_RATE_PASSWORD_RESETS_PER_IP the form
    comes back with the address typed and when to try again (429)."""

    form_class = PasswordResetForm

    def form_valid(self, form):
        wait = limits.check(self.request, "password_reset")
        if wait is None:
            return super().form_valid(form)
        form.add_error(
            None, f"{TOO_MANY_RESETS} Try again in {limits.wait_in_words(wait)}."
        )
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(wait)
        return response


password_reset = PasswordResetView.as_view()

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm

from accounts.models import Membership

User = get_user_model()


class SignupForm(forms.Form):
    email = forms.EmailField(label="Work email", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(label="Password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text="At least 8 characters.")
    organization = forms.CharField(label="Organisation name", max_length=200, required=False,
                                   help_text="Your company or team; you can invite colleagues next.")

    def __init__(self, *args, invitation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation
        if invitation is None:
            self.fields["organization"].required = True
        else:
            del self.fields["organization"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(username=email).exists() or User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email exists already; log in instead.")
        return email

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class LoginForm(AuthenticationForm):
    username = forms.CharField(label="Email", widget=forms.EmailInput(attrs={"autofocus": True,
                                                                            "autocomplete": "email"}))

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices, initial=Membership.Role.MEMBER)

    def __init__(self, *args, inviter: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        if not inviter.is_owner:  # only owners make owners
            self.fields["role"].choices = [c for c in Membership.Role.choices if c[0] != Membership.Role.OWNER]


class KeyForm(forms.Form):
    LIVE, SANDBOX = "live", "sandbox"

    name = forms.CharField(label="Key name", max_length=100, initial="",
                           widget=forms.TextInput(attrs={"placeholder": "e.g. production backend"}))
    # Not required: a form without the field (an older page, a script) creates a live key, as it always did.
    kind = forms.ChoiceField(label="Kind", initial=LIVE, required=False, widget=forms.RadioSelect, choices=[
        (LIVE, "Live (aa_…): tasks hold and spend credits"),
        (SANDBOX, "Sandbox (aa_test_…): free test tasks, covers watermarked SAMPLE"),
    ])


class OrganizationForm(forms.Form):
    name = forms.CharField(label="Organisation name", max_length=200)

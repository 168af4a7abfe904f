from django import forms

from .models import Policy
from .services.policy import EDITABLE


class PolicyForm(forms.ModelForm):
    webhook_secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                                     help_text="Leave empty to keep the current secret.")

    class Meta:
        model = Policy
        fields = list(EDITABLE)


class ActionForm(forms.Form):
    reason = forms.CharField(required=False, max_length=2000)
    force = forms.BooleanField(required=False)
    threshold = forms.FloatField(required=False, min_value=0.0, max_value=1.0)

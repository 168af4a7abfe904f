from django import forms
from django.conf import settings
from django.contrib import admin

from core.roles import ADMINS, user_in
from monitoring.models import ModelVersion

from .loading import ArtifactRefused
from .models import ArtifactFormat, ImportanceFlag, ModelArtifact, TrustedArtifactHash
from .services import artifact_upload


class AdminsOnly:
    """Only superusers and the Admins group see or change these: they decide what code may run."""

    def has_module_permission(self, request) -> bool:
        return user_in(request.user, ADMINS)

    def has_view_permission(self, request, obj=None) -> bool:
        return user_in(request.user, ADMINS)

    def has_add_permission(self, request) -> bool:
        return user_in(request.user, ADMINS)

    def has_change_permission(self, request, obj=None) -> bool:
        return user_in(request.user, ADMINS)

    def has_delete_permission(self, request, obj=None) -> bool:
        return user_in(request.user, ADMINS)


@admin.register(TrustedArtifactHash)
class TrustedArtifactHashAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = ("sha256", "note", "created_by", "created_at")
    search_fields = ("sha256", "note")
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        obj.sha256 = obj.sha256.strip().lower()
        super().save_model(request, obj, form, change)


class ArtifactUploadForm(forms.ModelForm):
    """Upload goes through the same service as the API, so the same checks apply."""

    upload = forms.FileField(label="Model file")
    upload_format = forms.ChoiceField(
        label="Format", required=False,
        choices=[("", "Detect from content")] + list(ArtifactFormat.choices),
    )

    class Meta:
        model = ModelArtifact
        fields = ("version",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = ModelVersion.objects.select_related("model")
        self.artifact: ModelArtifact | None = None

    def clean(self):
        cleaned = super().clean()
        upload, version = cleaned.get("upload"), cleaned.get("version")
        if upload is None or version is None:
            return cleaned
        if upload.size > settings.VIGIL_MAX_ARTIFACT_BYTES:
            raise forms.ValidationError(f"The file exceeds the limit of {settings.VIGIL_MAX_ARTIFACT_BYTES} bytes.")
        try:
            self.artifact, _ = artifact_upload(version=version, file=upload,
                                               fmt=cleaned.get("upload_format") or None,
                                               uploaded_by=getattr(self, "username", ""))
        except ArtifactRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return cleaned


@admin.register(ModelArtifact)
class ModelArtifactAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = ("version", "format", "explainer", "short_sha", "size", "current", "uploaded_by", "created_at")
    list_filter = ("format", "explainer", "current")
    readonly_fields = ("version", "file", "sha256", "format", "size", "explainer", "link", "checks", "current",
                       "uploaded_by", "created_at")

    @admin.display(description="sha256")
    def short_sha(self, obj: ModelArtifact) -> str:
        return obj.sha256[:12]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = type("ArtifactUploadForm", (ArtifactUploadForm,),
                                  {"username": request.user.get_username()})
            kwargs["fields"] = ("version", "upload", "upload_format")
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def save_form(self, request, form, change):
        # The service already stored the artifact in the form's clean(): hand that one on.
        if not change and getattr(form, "artifact", None) is not None:
            return form.artifact
        return super().save_form(request, form, change)

    def save_model(self, request, obj, form, change) -> None:
        if obj.pk is None:
            super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        # No related objects: the service saved everything the artifact needs.
        return None


@admin.register(ImportanceFlag)
class ImportanceFlagAdmin(admin.ModelAdmin):
    list_display = ("version", "day", "feature", "baseline", "share", "baseline_share", "message")
    list_filter = ("baseline",)
    date_hierarchy = "day"

from django import forms
from django.contrib import admin, messages

from .models import MLModel, ModelVersion
from .models.registry import Stage
from .selectors.registry import version_production
from .services import registry


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    fields = ("version", "stage", "threshold", "created_at", "promoted_at")
    # Stage changes here could replace production unaudited: they go through the version's own
    # admin page (checked like the API) or the lifecycle's promotion and rollback.
    readonly_fields = ("stage", "created_at", "promoted_at")
    extra = 0


@admin.register(MLModel)
class MLModelAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "task", "created_at")
    search_fields = ("slug", "name")
    list_filter = ("task",)
    # Retention moves raw_purged_before; raw_retention_days is the setting admins change here.
    readonly_fields = ("raw_purged_before",)
    inlines = [ModelVersionInline]


class ModelVersionForm(forms.ModelForm):
    class Meta:
        model = ModelVersion
        fields = ["model", "version", "stage", "features", "threshold", "classes", "metadata"]

    def clean(self):
        cleaned = super().clean()
        model = cleaned.get("model") or getattr(self.instance, "model", None)
        if "stage" in self.changed_data and model is not None:
            if self.instance.pk:
                try:
                    registry.stage_change_check(model=model, version=self.instance, stage=cleaned.get("stage"))
                except registry.StageConflict as exc:
                    self.add_error("stage", exc.detail)
            elif cleaned.get("stage") == Stage.PRODUCTION and version_production(model=model) is not None:
                # The API's straight-into-production registration is for serving systems; here an
                # admin adds the version first and promotes it through the gate.
                self.add_error("stage", f"'{model.slug}' already has a production version: add this one as "
                                        "shadow or candidate, then promote it through the gate (audited).")
        if "threshold" in self.changed_data and self.instance.pk:
            try:
                registry.threshold_change_check(version=self.instance, threshold=cleaned.get("threshold"))
            except registry.StageConflict as exc:
                self.add_error("threshold", exc.detail)
        return cleaned


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    form = ModelVersionForm
    list_display = ("model", "version", "stage", "threshold", "created_at", "promoted_at")
    list_filter = ("stage", "model")
    search_fields = ("version", "model__slug")
    readonly_fields = ("promoted_at",)

    def save_model(self, request, obj, form, change):
        # The stage goes through the registry's service (checked under the model's lock, the first
        # production version audited); everything else is saved as the admin typed it.
        stage = obj.stage
        if "stage" in form.changed_data:
            obj.stage = form.initial.get("stage") or ModelVersion._meta.get_field("stage").default
        super().save_model(request, obj, form, change)
        if stage != obj.stage:
            try:
                registry.version_update(version=obj, changes={"stage": stage}, actor=str(request.user))
            except registry.StageConflict as exc:
                self.message_user(request, exc.detail, level=messages.ERROR)

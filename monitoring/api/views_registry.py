"""Models and versions: read with scope ``read``, write with scope ``admin``."""

from django.db.models import Count, Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.auth import HasScopeForMethod
from core.api.errors import BadRequest, Conflict, error_responses
from monitoring.engine.validation import InvalidInput
from monitoring.models import ModelVersion
from monitoring.selectors.registry import model_get, model_list, version_get, version_list
from monitoring.services import registry

from .serializers import (
    ModelCreateSerializer,
    ModelSerializer,
    VersionCreateSerializer,
    VersionSerializer,
    VersionUpdateSerializer,
)

ERRORS = error_responses(400, 401, 403, 404, 409)


def as_api_error(exc: InvalidInput) -> BadRequest | Conflict:
    kind = Conflict if isinstance(exc, registry.AlreadyExists | registry.StageConflict) else BadRequest
    return kind(exc.detail, exc.errors)


class RegistryView(APIView):
    permission_classes = [HasScopeForMethod]
    # Whoever may change the registry may also look at it.
    read_scopes = ("read", "admin")
    write_scopes = ("admin",)


def _models_with_versions():
    return model_list().prefetch_related(Prefetch("versions", queryset=ModelVersion.objects.only(
        "id", "model_id", "version", "stage", "created_at", "promoted_at")))


class ModelListView(RegistryView):
    @extend_schema(responses={200: ModelSerializer(many=True), **ERRORS}, summary="List models")
    def get(self, request):
        return Response(ModelSerializer(_models_with_versions(), many=True).data)

    @extend_schema(
        request=ModelCreateSerializer, responses={201: ModelSerializer, **ERRORS}, summary="Create a model",
        examples=[OpenApiExample("Binary model", request_only=True, value={
            "slug": "loan-default", "name": "Loan default", "task": "binary_classification"})],
    )
    def post(self, request):
        data = ModelCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            model = registry.model_create(**data.validated_data)
        except InvalidInput as exc:
            raise as_api_error(exc) from None
        return Response(ModelSerializer(model).data, status=status.HTTP_201_CREATED)


class ModelDetailView(RegistryView):
    @extend_schema(responses={200: ModelSerializer, **ERRORS}, summary="One model")
    def get(self, request, slug: str):
        model = model_get(slug=slug)
        return Response(ModelSerializer(_models_with_versions().get(pk=model.pk)).data)


class VersionListView(RegistryView):
    @extend_schema(responses={200: VersionSerializer(many=True), **ERRORS}, summary="List a model's versions")
    def get(self, request, slug: str):
        model = model_get(slug=slug)
        versions = version_list(model=model).select_related("model").annotate(reference_row_count=Count("reference_rows"))
        return Response(VersionSerializer(versions, many=True).data)

    @extend_schema(
        request=VersionCreateSerializer, responses={201: VersionSerializer, **ERRORS}, summary="Register a version",
        description="`stage: production` only for the model's first production version; later ones are "
                    "promoted through `POST .../versions/{version}/promote/` (409 naming `stage` otherwise).",
        examples=[OpenApiExample("Version with schema", request_only=True, value={
            "version": "2024-06-01", "stage": "production", "threshold": 0.5,
            "features": [
                {"name": "income", "type": "numeric", "nullable": False, "min": 0, "max": 1000000},
                {"name": "region", "type": "categorical", "categories": ["north", "south"]},
                {"name": "has_car", "type": "boolean"},
            ],
            "metadata": {"commit": "3f2a9c1", "training_period": "2024-01/2024-05"},
        })],
    )
    def post(self, request, slug: str):
        model = model_get(slug=slug)
        data = VersionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            version = registry.version_create(model=model, actor=str(request.user), **data.validated_data)
        except InvalidInput as exc:
            raise as_api_error(exc) from None
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)


class VersionDetailView(RegistryView):
    @extend_schema(responses={200: VersionSerializer, **ERRORS}, summary="One version")
    def get(self, request, slug: str, version: str):
        found = version_get(model=model_get(slug=slug), version=version)
        found.reference_row_count = found.reference_rows.count()
        return Response(VersionSerializer(found).data)

    @extend_schema(
        request=VersionUpdateSerializer, responses={200: VersionSerializer, **ERRORS},
        summary="Change stage, threshold or metadata (moving to production sets promoted)",
        description="409 naming `stage` for a change that would replace or remove the production version "
                    "(use `POST .../versions/{version}/promote/` or `POST .../rollback/`, which are gated and "
                    "audited), and naming `threshold` for the production version's threshold (`POST "
                    ".../versions/{version}/threshold/`). Making the model's first production version is allowed.",
        examples=[OpenApiExample("Shadow", request_only=True, value={"stage": "shadow"})],
    )
    def patch(self, request, slug: str, version: str):
        found = version_get(model=model_get(slug=slug), version=version)
        if not isinstance(request.data, dict):
            raise BadRequest("Expected a JSON object.", {"non_field_errors": ["Expected a JSON object."]})
        unknown = sorted(set(request.data) - {"stage", "threshold", "metadata"})
        if unknown:
            raise BadRequest(f"Cannot change {', '.join(unknown)}: only stage, threshold and metadata.",
                             {key: ["Cannot be changed."] for key in unknown})
        data = VersionUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            updated = registry.version_update(version=found, changes=dict(data.validated_data), actor=str(request.user))
        except InvalidInput as exc:
            raise as_api_error(exc) from None
        updated.reference_row_count = updated.reference_rows.count()
        return Response(VersionSerializer(updated).data)

"""Alert rules and silences (scope admin to change; read to look), and alerts (scope read)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.auth import HasScopeForMethod, scope_required
from core.api.errors import BadRequest, error_responses
from monitoring.selectors.registry import model_get

from ..models import AlertRule, State
from ..selectors import alert_list, rule_list, silence_list
from ..services.feedback import rule_precision
from ..services.rules import RuleInvalid, rule_create, rule_delete, rule_update
from ..services.silences import SilenceInvalid, silence_create
from .serializers import AlertSerializer, RuleSerializer, SilenceInSerializer, SilenceSerializer

ERRORS = error_responses(400, 401, 403, 404)


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise BadRequest("Send a JSON object.", {"body": ["Expected a JSON object."]})
    return dict(request.data)


class AdminWrites(APIView):
    permission_classes = [HasScopeForMethod]
    read_scopes = ("read", "admin")
    write_scopes = ("admin",)


def _rule_data(rules, many: bool = False):
    rules_seq = rules if many else [rules]
    precision = {r.id: rule_precision(rule=r)["precision"] for r in rules_seq}
    return RuleSerializer(rules, many=many, context={"precision": precision}).data


class RuleListView(AdminWrites):
    @extend_schema(responses={200: RuleSerializer(many=True), **ERRORS}, summary="List a model's alert rules")
    def get(self, request, slug: str):
        return Response(_rule_data(list(rule_list(model=model_get(slug=slug))), many=True))

    @extend_schema(request=RuleSerializer, responses={201: RuleSerializer, **ERRORS}, summary="Create an alert rule")
    def post(self, request, slug: str):
        model = model_get(slug=slug)
        try:
            rule = rule_create(model=model, data=_body(request))
        except RuleInvalid as exc:
            raise BadRequest(f"Invalid rule: {exc}", exc.errors) from None
        return Response(_rule_data(rule), status=status.HTTP_201_CREATED)


class RuleDetailView(AdminWrites):
    def _rule(self, slug: str, pk: int) -> AlertRule:
        return get_object_or_404(AlertRule, pk=pk, model=model_get(slug=slug))

    @extend_schema(responses={200: RuleSerializer, **ERRORS}, summary="One alert rule")
    def get(self, request, slug: str, pk: int):
        return Response(_rule_data(self._rule(slug, pk)))

    @extend_schema(request=RuleSerializer, responses={200: RuleSerializer, **ERRORS}, summary="Change an alert rule")
    def patch(self, request, slug: str, pk: int):
        rule = self._rule(slug, pk)
        try:
            rule = rule_update(rule=rule, data=_body(request))
        except RuleInvalid as exc:
            raise BadRequest(f"Invalid rule: {exc}", exc.errors) from None
        return Response(_rule_data(rule))

    @extend_schema(responses={204: None, **ERRORS}, summary="Delete an alert rule")
    def delete(self, request, slug: str, pk: int):
        rule_delete(rule=self._rule(slug, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlertListView(APIView):
    permission_classes = [scope_required("read", "admin")]

    @extend_schema(
        parameters=[OpenApiParameter("state", enum=[s.value for s in State if s != State.OK])],
        responses={200: AlertSerializer(many=True), **ERRORS}, summary="A model's alerts",
    )
    def get(self, request, slug: str):
        model = model_get(slug=slug)
        state = request.query_params.get("state", "")
        if state and state not in {s.value for s in State if s != State.OK}:
            raise BadRequest("Unknown state.", {"state": ["One of: pending, firing, resolved, no_data."]})
        return Response(AlertSerializer(alert_list(model=model, state=state), many=True).data)


class SilenceListView(AdminWrites):
    @extend_schema(responses={200: SilenceSerializer(many=True), **ERRORS}, summary="A model's silences")
    def get(self, request, slug: str):
        return Response(SilenceSerializer(silence_list(model=model_get(slug=slug)), many=True).data)

    @extend_schema(request=SilenceInSerializer, responses={201: SilenceSerializer, **ERRORS}, summary="Silence alerts")
    def post(self, request, slug: str):
        model = model_get(slug=slug)
        data = SilenceInSerializer(data=_body(request))
        data.is_valid(raise_exception=True)
        values = data.validated_data
        rule = None
        if values.get("rule") is not None:
            rule = AlertRule.objects.filter(pk=values["rule"], model=model).first()
            if rule is None:
                raise BadRequest("Unknown rule.", {"rule": [f"No rule {values['rule']} on model '{slug}'."]})
        # A token is not a web user: keep its name for "who" without a user row.
        user = request.user if getattr(request.user, "pk", None) else None
        try:
            silence = silence_create(model=model, until=values["until"], reason=values["reason"], rule=rule,
                                     kind=values.get("kind") or "", user=user,
                                     created_by_name=user.get_username() if user else str(request.user))
        except SilenceInvalid as exc:
            raise BadRequest(f"Invalid silence: {exc}", exc.errors) from None
        return Response(SilenceSerializer(silence).data, status=status.HTTP_201_CREATED)

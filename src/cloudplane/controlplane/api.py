"""The HTTP routes, under /api/v1: request shapes checked by the schemas, each a thin call into the service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from cloudplane.controlplane.auth import bearer_secret
from cloudplane.controlplane.paging import DEFAULT_LIMIT, MAX_LIMIT
from cloudplane.controlplane.schemas import (
    ClaimIn,
    CloudCreate,
    CloudList,
    CloudOut,
    CloudPatch,
    ClusterCreate,
    ClusterList,
    ClusterOut,
    FunctionalVerificationCreate,
    Info,
    InstanceList,
    LoadBalancerCleanup,
    TokenCreate,
    TokenList,
    TokenOut,
    TokenWithSecret,
    VerificationIn,
)
from cloudplane.controlplane.service import ControlPlaneService
from cloudplane.controlplane.store import UNSET


def authenticate(request: Request) -> None:
    """Every route of `router` needs `Authorization: Bearer <token>`; the caller is kept on the request."""
    secret = bearer_secret(request.headers.get("authorization", ""))
    request.state.caller = request.app.state.service.authenticate(secret)


public = APIRouter(prefix="/api/v1")
router = APIRouter(prefix="/api/v1", dependencies=[Depends(authenticate)])


def _service(request: Request) -> ControlPlaneService:
    return request.app.state.service.acting_as(request.state.caller)


def _read(data: dict[str, Any]) -> JSONResponse:
    """The answer of a route read most (one cloud, a page of clouds) as JSON straight away. FastAPI would
    first validate it again against the route's response model: the service already built it in that shape
    (`cloud_record`, held to it by the contract tests), and on a page of 100 clouds that check costs more
    than everything else together. The model still describes the route in the API docs."""
    return JSONResponse(data)


@public.get("/info", response_model=Info)
def info(request: Request) -> dict[str, Any]:
    return request.app.state.service.info()


@router.post("/clouds", status_code=201, response_model=CloudOut)
def create_cloud(body: CloudCreate, request: Request) -> dict[str, Any]:
    return _service(request).create_cloud(
        name=body.name,
        provider=body.provider,
        region=body.region,
        deployment=body.deployment,
        networking=body.networking,
        options=body.options,
        external_id=body.external_id,
        resources=body.resources.given() if body.resources else None,
        claim=body.claim.model_dump(exclude={"replace"}) if body.claim else None,
    )


@router.post("/clouds/{cloud_id}/claim", response_model=CloudOut)
def claim_cloud(cloud_id: str, body: ClaimIn, request: Request) -> dict[str, Any]:
    return _service(request).claim_cloud(
        cloud_id, operation=body.operation, owner=body.owner, seconds=body.seconds, replace=body.replace
    )


@router.delete("/clouds/{cloud_id}/claim", response_model=CloudOut)
def release_cloud(cloud_id: str, owner: str, request: Request) -> dict[str, Any]:
    return _service(request).release_cloud(cloud_id, owner)


@router.get("/clouds", response_model=CloudList)
def list_clouds(
    request: Request,
    name: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, description=f"1 to {MAX_LIMIT}"),
    cursor: str | None = None,
) -> Response:
    """One page of clouds in creation order; `next_cursor` (null on the last page) asks for the next."""
    return _read(_service(request).list_clouds_page(name=name, limit=limit, cursor=cursor))


@router.get("/clouds/{cloud_id}", response_model=CloudOut)
def get_cloud(cloud_id: str, request: Request) -> Response:
    return _read(_service(request).get_cloud(cloud_id))


@router.patch("/clouds/{cloud_id}", response_model=CloudOut)
def update_cloud(cloud_id: str, body: CloudPatch, request: Request) -> dict[str, Any]:
    return _service(request).update_cloud(
        cloud_id,
        state=body.state,
        resources=body.resources.given() if body.resources else None,
        options=body.options,
        # An explicit null clears the reason; leaving the key out leaves it alone.
        failure_reason=body.failure_reason if "failure_reason" in body.model_fields_set else UNSET,
    )


@router.put("/clouds/{cloud_id}/verification", response_model=CloudOut)
def store_verification(cloud_id: str, body: VerificationIn, request: Request) -> dict[str, Any]:
    return _service(request).store_verification(cloud_id, body.report)


@router.post("/clouds/{cloud_id}/default", response_model=CloudOut)
def set_default(cloud_id: str, request: Request) -> dict[str, Any]:
    return _service(request).set_default(cloud_id)


@router.delete("/clouds/{cloud_id}", status_code=204)
def delete_cloud(cloud_id: str, request: Request) -> Response:
    _service(request).delete_cloud(cloud_id)
    return Response(status_code=204)


@router.post("/tokens", status_code=201, response_model=TokenWithSecret)
def create_token(body: TokenCreate, request: Request) -> dict[str, Any]:
    return _service(request).create_token(org=body.org, name=body.name, admin=body.admin)


@router.get("/tokens", response_model=TokenList)
def list_tokens(request: Request, org: str | None = None) -> dict[str, Any]:
    return {"tokens": _service(request).list_tokens(org=org)}


@router.delete("/tokens/{name}", response_model=TokenOut)
def revoke_token(name: str, request: Request, org: str | None = None) -> dict[str, Any]:
    return _service(request).revoke_token(name, org=org)


@router.get("/clouds/{cloud_id}/instances", response_model=InstanceList)
def cloud_instances(cloud_id: str, request: Request) -> dict[str, Any]:
    return {"instances": _service(request).cloud_instances(cloud_id)}


@router.post("/clouds/{cloud_id}/instances/terminate", response_model=InstanceList)
def terminate_cloud_instances(cloud_id: str, request: Request) -> dict[str, Any]:
    return {"instances": _service(request).terminate_cloud_instances(cloud_id)}


@router.post("/clusters", status_code=201, response_model=ClusterOut)
def launch_cluster(body: ClusterCreate, request: Request) -> dict[str, Any]:
    return _service(request).launch_cluster(
        name=body.name, cloud_id=body.cloud_id, kind=body.kind, compute_config=body.compute_config
    )


@router.get("/clusters", response_model=ClusterList)
def list_clusters(request: Request, cloud_id: str | None = None, all: bool = False) -> dict[str, Any]:
    return {"clusters": _service(request).list_clusters(cloud_id=cloud_id, include_terminated=all)}


@router.get("/clusters/{name}", response_model=ClusterOut)
def get_cluster(name: str, request: Request) -> dict[str, Any]:
    return _service(request).get_cluster(name)


@router.post("/clusters/{name}/terminate", response_model=ClusterOut)
def terminate_cluster(name: str, request: Request) -> dict[str, Any]:
    return _service(request).terminate_cluster(name)


@router.post("/clouds/{cloud_id}/load-balancers/clean-up", response_model=LoadBalancerCleanup)
def clean_up_load_balancers(cloud_id: str, request: Request) -> dict[str, Any]:
    return _service(request).clean_up_load_balancers(cloud_id)


# A run's shape is the service's (steps per target, each with its state and timings): passed through as is.
@router.post("/functional-verifications", status_code=201)
def start_functional_verification(body: FunctionalVerificationCreate, request: Request) -> dict[str, Any]:
    return _service(request).start_functional_verification(body.cloud_id, body.targets)


@router.get("/functional-verifications/{run_id}")
def get_functional_verification(run_id: str, request: Request) -> dict[str, Any]:
    return _service(request).get_functional_verification(run_id)


@router.post("/functional-verifications/{run_id}/advance")
def advance_functional_verification(run_id: str, request: Request) -> dict[str, Any]:
    return _service(request).advance_functional_verification(run_id)


@router.post("/functional-verifications/{run_id}/abort")
def abort_functional_verification(run_id: str, request: Request) -> dict[str, Any]:
    return _service(request).abort_functional_verification(run_id)

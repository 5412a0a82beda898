"""The HTTP routes, under /api/v1. Each one is a thin call into the store."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from cloudplane.controlplane.schemas import (
    ClaimIn,
    CloudCreate,
    CloudList,
    CloudOut,
    CloudPatch,
    VerificationIn,
    cloud_out,
)
from cloudplane.controlplane.store import UNSET, Claim, CloudStore

router = APIRouter(prefix="/api/v1")


def _store(request: Request) -> CloudStore:
    return request.app.state.store


@router.post("/clouds", status_code=201)
def create_cloud(body: CloudCreate, request: Request) -> CloudOut:
    cloud = _store(request).create(
        name=body.name,
        provider=body.provider,
        region=body.region,
        deployment=body.deployment,
        networking=body.networking,
        options=body.options,
        external_id=body.external_id,
        resources=body.resources.given() if body.resources else None,
        claim=_claim(body.claim) if body.claim else None,
    )
    return cloud_out(cloud)


def _claim(body: ClaimIn) -> Claim:
    return Claim(body.operation, body.owner, body.seconds)


@router.post("/clouds/{cloud_id}/claim")
def claim_cloud(cloud_id: str, body: ClaimIn, request: Request) -> CloudOut:
    return cloud_out(_store(request).claim(cloud_id, _claim(body), replace=body.replace))


@router.delete("/clouds/{cloud_id}/claim")
def release_cloud(cloud_id: str, owner: str, request: Request) -> CloudOut:
    return cloud_out(_store(request).release(cloud_id, owner))


@router.get("/clouds")
def list_clouds(request: Request, name: str | None = None) -> CloudList:
    return CloudList(clouds=[cloud_out(cloud) for cloud in _store(request).list(name=name)])


@router.get("/clouds/{cloud_id}")
def get_cloud(cloud_id: str, request: Request) -> CloudOut:
    return cloud_out(_store(request).get(cloud_id))


@router.patch("/clouds/{cloud_id}")
def update_cloud(cloud_id: str, body: CloudPatch, request: Request) -> CloudOut:
    cloud = _store(request).update(
        cloud_id,
        state=body.state,
        resources=body.resources.given() if body.resources else None,
        options=body.options,
        # An explicit null clears the reason; leaving the key out leaves it alone.
        failure_reason=body.failure_reason if "failure_reason" in body.model_fields_set else UNSET,
    )
    return cloud_out(cloud)


@router.put("/clouds/{cloud_id}/verification")
def store_verification(cloud_id: str, body: VerificationIn, request: Request) -> CloudOut:
    return cloud_out(_store(request).store_verification(cloud_id, body.report))


@router.post("/clouds/{cloud_id}/default")
def set_default(cloud_id: str, request: Request) -> CloudOut:
    return cloud_out(_store(request).set_default(cloud_id))


@router.delete("/clouds/{cloud_id}", status_code=204)
def delete_cloud(cloud_id: str, request: Request) -> Response:
    _store(request).delete(cloud_id)
    return Response(status_code=204)

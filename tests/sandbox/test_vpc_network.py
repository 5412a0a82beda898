"""A start-up script's sockets live in the instance's VPC: the EFS mount target and the MemoryDB endpoint are
reachable on their ports exactly when the security groups on both sides allow it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .conftest import REGION
from .node_scripts import node_script
from .nodes import Cloud, build_cloud, launch, result

NFS = 2049


def _group(client: Any, cloud: Cloud, name: str) -> str:
    return client("ec2").create_security_group(GroupName=name, Description=name, VpcId=cloud.vpc_id)[
        "GroupId"
    ]


def _allow_from_nodes(client: Any, cloud: Cloud, group: str, port: int) -> None:
    client("ec2").authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "UserIdGroupPairs": [{"GroupId": cloud.node_group}],
            }
        ],
    )


def _mount_target(client: Any, cloud: Cloud, group: str) -> tuple[str, str]:
    efs = client("efs")
    fs_id = efs.create_file_system(CreationToken="node-efs")["FileSystemId"]
    target = efs.create_mount_target(FileSystemId=fs_id, SubnetId=cloud.subnet_ids[0], SecurityGroups=[group])
    return fs_id, target["IpAddress"]


PROBE_EFS = """
report(BUCKET, {
    "by_address": tcp(ADDRESS, 2049),
    "by_name": tcp(FS_ID + ".efs." + REGION + ".amazonaws.com", 2049),
    "other_port": tcp(ADDRESS, 111),
})
"""


def test_the_mount_target_is_reachable_on_nfs_when_its_group_admits_the_nodes(client: Any) -> None:
    cloud = build_cloud(client)
    efs_group = _group(client, cloud, "efs")
    _allow_from_nodes(client, cloud, efs_group, NFS)
    fs_id, address = _mount_target(client, cloud, efs_group)

    instance_id = launch(
        client, cloud, node_script(PROBE_EFS, BUCKET=cloud.bucket, ADDRESS=address, FS_ID=fs_id)
    )

    assert result(client, cloud.bucket, instance_id) == {
        "by_address": "open",
        "by_name": "open",
        "other_port": "TimeoutError",
    }


def test_the_mount_target_times_out_when_its_group_has_no_nfs_ingress(
    client: Any, moto_api: Callable[..., Any]
) -> None:
    cloud = build_cloud(client)
    efs_group = _group(client, cloud, "efs")
    fs_id, address = _mount_target(client, cloud, efs_group)

    instance_id = launch(
        client, cloud, node_script(PROBE_EFS, BUCKET=cloud.bucket, ADDRESS=address, FS_ID=fs_id)
    )

    assert result(client, cloud.bucket, instance_id)["by_address"] == "TimeoutError"
    answer = moto_api(
        "POST", "cloudplane/network/reach", {"instance_id": instance_id, "host": address, "port": NFS}
    )
    assert answer["reachable"] is False
    assert (
        answer["reason"] == f"{efs_group} of the mount target allows no ingress on tcp/2049 from the instance"
    )


def test_the_nodes_need_egress_to_the_mount_target(client: Any, moto_api: Callable[..., Any]) -> None:
    cloud = build_cloud(client)
    efs_group = _group(client, cloud, "efs")
    _allow_from_nodes(client, cloud, efs_group, NFS)
    _, address = _mount_target(client, cloud, efs_group)
    ec2 = client("ec2")
    ec2.revoke_security_group_egress(
        GroupId=cloud.node_group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    instance_id = launch(client, cloud, "")

    def reach() -> dict[str, Any]:
        return moto_api(
            "POST", "cloudplane/network/reach", {"instance_id": instance_id, "host": address, "port": NFS}
        )

    blocked = reach()
    assert blocked["reachable"] is False
    assert (
        blocked["reason"] == f"{cloud.node_group} of the instance allows no egress on tcp/2049 to {address}"
    )

    ec2.authorize_security_group_egress(
        GroupId=cloud.node_group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": NFS,
                "ToPort": NFS,
                "UserIdGroupPairs": [{"GroupId": efs_group}],
            }
        ],
    )
    assert reach()["reachable"] is True


def test_unknown_destinations_are_unreachable(client: Any, moto_api: Callable[..., Any]) -> None:
    cloud = build_cloud(client)
    instance_id = launch(client, cloud, "")

    answer = moto_api(
        "POST", "cloudplane/network/reach", {"instance_id": instance_id, "host": "10.20.1.250", "port": 80}
    )

    assert answer["reachable"] is False
    assert answer["reason"] == "nothing in the instance's VPC has the address 10.20.1.250"


def test_the_memorydb_endpoint_resolves_in_the_vpc_and_answers_on_its_port(client: Any) -> None:
    cloud = build_cloud(client)
    cache_group = _group(client, cloud, "memorydb")
    _allow_from_nodes(client, cloud, cache_group, 6379)
    memorydb = client("memorydb")
    memorydb.create_subnet_group(SubnetGroupName="nodes", SubnetIds=cloud.subnet_ids[:1])
    cluster = memorydb.create_cluster(
        ClusterName="cache",
        NodeType="db.t4g.small",
        ACLName="open-access",
        SubnetGroupName="nodes",
        SecurityGroupIds=[cache_group],
        TLSEnabled=False,
    )["Cluster"]
    endpoint = cluster["ClusterEndpoint"]
    script = node_script(
        """
        import ipaddress, socket
        address = socket.getaddrinfo(HOST, PORT, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
        report(BUCKET, {
            "in_vpc": ipaddress.ip_address(address) in ipaddress.ip_network("10.20.0.0/16"),
            "endpoint": tcp(HOST, PORT),
        })
        """,
        BUCKET=cloud.bucket,
        HOST=endpoint["Address"],
        PORT=endpoint["Port"],
    )

    instance_id = launch(client, cloud, script)

    assert result(client, cloud.bucket, instance_id) == {"in_vpc": True, "endpoint": "open"}
    assert endpoint["Address"].endswith(f".memorydb.{REGION}.amazonaws.com")


def test_an_instance_reaches_another_instances_listener_through_their_groups(client: Any) -> None:
    cloud = build_cloud(client)
    _allow_from_nodes(client, cloud, cloud.node_group, 8080)
    server_script = node_script(
        """
        import http.server

        class Hello(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"hello from " + INSTANCE_ID.encode())

        server = http.server.HTTPServer(("", 8080), Hello)
        report(BUCKET, {"listening": True})
        server.serve_forever()
        """,
        BUCKET=cloud.bucket,
    )
    server_id = launch(client, cloud, server_script)
    result(client, cloud.bucket, server_id)
    server_ip = client("ec2").describe_instances(InstanceIds=[server_id])["Reservations"][0]["Instances"][0][
        "PrivateIpAddress"
    ]
    client_script = node_script(
        """
        page = urllib.request.urlopen("http://%s:8080/" % SERVER, timeout=5).read().decode()
        report(BUCKET, {"page": page, "closed_port": tcp(SERVER, 8081)})
        """,
        BUCKET=cloud.bucket,
        SERVER=server_ip,
    )

    client_id = launch(client, cloud, client_script, subnet=1)

    assert result(client, cloud.bucket, client_id) == {
        "page": f"hello from {server_id}",
        "closed_port": "TimeoutError",
    }

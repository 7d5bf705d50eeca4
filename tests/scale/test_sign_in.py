"""Sign-in state lives in the database: a token from one process works on another, and so does sign-out."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.scale.cluster import Cluster, RemoteTenant


def test_a_token_issued_by_process_a_is_honoured_by_process_b(two: Cluster, clinic_staff: RemoteTenant) -> None:
    a, b = two.nodes
    token = clinic_staff.login("technician", node=0)
    with b.client(token) as on_b, a.client(token) as on_a:
        me = on_b.get("/api/v1/auth/me")
        assert me.status_code == 200, me.text
        assert me.json()["username"] == clinic_staff.usernames["technician"]
        created = on_b.post("/api/v1/patients", json={
            "mrn": "SCALE-1", "family_name": "Across", "given_name": "Pat", "date_of_birth": "1970-01-01",
            "sex": "female", "primary_diagnosis": "F33.2"})
        assert created.status_code == 201, created.text
        read = on_a.get(f"/api/v1/patients/{created.json()['id']}")
        assert read.status_code == 200 and read.json()["mrn"] == "SCALE-1"


def test_signing_out_on_b_ends_the_session_on_a(two: Cluster, clinic_staff: RemoteTenant) -> None:
    a, b = two.nodes
    token = clinic_staff.login("psychiatrist", node=0)
    with a.client(token) as on_a, b.client(token) as on_b:
        assert on_a.get("/api/v1/auth/me").status_code == 200
        assert on_b.post("/api/v1/auth/logout").status_code == 204
        refused = on_a.get("/api/v1/auth/me")
        assert refused.status_code == 401, refused.text


def test_failed_sign_ins_on_both_processes_count_towards_one_lockout(two: Cluster,
                                                                     clinic_staff: RemoteTenant) -> None:
    """Five failures spread over A and B lock the account on both (the default TMS_LOGIN_MAX_FAILURES)."""
    username = clinic_staff.usernames["admin"]
    for i in range(5):
        with two.nodes[i % 2].client() as anon:
            r = anon.post("/api/v1/auth/token", data={"username": username, "password": "wrong password"})
            assert r.status_code == 401, r.text
    for node in two.nodes:
        with node.client() as anon:
            r = anon.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
            assert r.status_code == 429, r.text
            assert "too many failed logins" in r.json()["error"]["message"]

"""The administration API on both databases: every endpoint, bad input, roles, CSRF and the audit log.

A fresh database (migrated, no demo data) reaches a working district through the API alone:
streets, centres, a site sheet, kiosks, staff with skills.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import openpyxl
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from server.app import create_app
from server.district.accounts import upsert_user
from server.http import app_keys
from server.queueing.service import QUEUE
from server.runtime.embedded_redis import EmbeddedRedis
from tests.helpers import make_settings, prepare_database

PASSWORD = "admin-password-1"
SHEET = "name,street,kind,address\n甲居委,江宁路街道,committee,路1号\n乙居委,jingansi,居委,\n丙公园,静安寺街道,park,\n"
BROKEN_SHEET = (SHEET + ",江宁路街道,committee,\n丁居委,没有的街道,committee,\n甲居委,江宁路街道,committee,\n"
                "戊居委\u202e,江宁路街道,committee,\n")


@pytest.fixture
async def client(tmp_path: Path, database_url: str, embedded_redis: EmbeddedRedis) -> AsyncIterator[TestClient]:
    redis = aioredis.from_url(embedded_redis.url)
    await redis.flushdb()
    await redis.aclose()
    settings = make_settings(tmp_path, DATABASE_URL=database_url, REDIS_URL=embedded_redis.url)
    await prepare_database(settings)
    app = create_app(settings)
    async with TestClient(TestServer(app)) as test_client:
        async with app[app_keys.DB_SESSIONS]() as session, session.begin():
            await upsert_user(session, username="root", password=PASSWORD, role="admin")
        yield test_client


async def login(client: TestClient, username: str = "root", password: str = PASSWORD) -> None:
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status == 200, await response.text()


async def call(client: TestClient, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
    response = await client.request(method, path, **kwargs)
    assert response.status == status, await response.text()
    return await response.json()


def upload(text: str | bytes, name: str = "sites.csv") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", io.BytesIO(text.encode() if isinstance(text, str) else text), filename=name)
    return form


async def build_structure(client: TestClient) -> None:
    await call(client, "POST", "/api/v1/admin/streets", 201, json={"name": "江宁路街道"})
    street = await call(client, "POST", "/api/v1/admin/streets", 201, json={"name": "静安寺街道"})
    assert street["code"] == "jingansi"
    await call(client, "POST", "/api/v1/admin/centres", 201,
               json={"name": "江宁路中心", "street": "江宁路街道", "address": "江宁路1号", "phone": "021-1"})


async def test_structure_and_site_sheet(client: TestClient) -> None:
    await login(client)
    await build_structure(client)
    # Duplicates and unknown references.
    assert (await call(client, "POST", "/api/v1/admin/streets", 409, json={"name": "江宁路街道"}))["error"]
    await call(client, "POST", "/api/v1/admin/centres", 409, json={"name": "另一个", "street": "江宁路街道"})
    await call(client, "POST", "/api/v1/admin/centres", 404, json={"name": "X", "street": "nowhere"})
    # A name reading differently from what is stored (a bidi override), or only spaces, is refused;
    # spaces around a name are trimmed, so the trimmed twin of a street is the same street.
    for name in ("江宁路\u202e道街", "  ", "江宁路\n街道"):
        refused = await call(client, "POST", "/api/v1/admin/streets", 422, json={"name": name})
        assert refused["error"]["message"].startswith("字段无效: name（"), refused
    await call(client, "POST", "/api/v1/admin/streets", 409, json={"name": " 江宁路街道 "})
    centres = await call(client, "GET", "/api/v1/admin/centres")
    assert centres["centres"][0]["phone"] == "021-1"
    # "By id" takes the id as a JSON number too (and a boolean is no id).
    streets = (await call(client, "GET", "/api/v1/admin/streets"))["streets"]
    second = next(s for s in streets if s["name"] == "静安寺街道")
    await call(client, "POST", "/api/v1/admin/centres", 422, json={"name": "静安寺中心", "street": True})
    await call(client, "POST", "/api/v1/admin/centres", 201, json={"name": "静安寺中心", "street": second["id"]})
    assert len((await call(client, "GET", "/api/v1/admin/streets"))["streets"]) == 2

    # A broken sheet: preview names every broken row; applying writes nothing.
    preview = await call(client, "POST", "/api/v1/admin/sites/import?dry_run=true", data=upload(BROKEN_SHEET))
    assert preview["added"] == ["甲居委", "乙居委", "丙公园"]
    assert [e["row"] for e in preview["errors"]] == [5, 6, 7, 8]
    assert "第 6 行" in preview["errors"][1]["message"] and "没有的街道" in preview["errors"][1]["message"]
    assert "不可见字符" in preview["errors"][3]["message"]
    refused = await call(client, "POST", "/api/v1/admin/sites/import?dry_run=false", 422, data=upload(BROKEN_SHEET))
    assert len(refused["error"]["details"]) == 4
    assert (await call(client, "GET", "/api/v1/admin/sites"))["sites"] == []
    # ... unless the admin chooses to apply the valid rows.
    applied = await call(client, "POST", "/api/v1/admin/sites/import?dry_run=false&valid_only=true",
                         data=upload(BROKEN_SHEET))
    assert applied["applied"] and len(applied["added"]) == 3
    # The same sheet again changes nothing; an edited row is a change.
    again = await call(client, "POST", "/api/v1/admin/sites/import?dry_run=false",
                       data=upload(SHEET.replace("路1号", "路2号")))
    assert again["changed"] == ["甲居委"] and again["unchanged"] == 2
    await call(client, "POST", "/api/v1/admin/sites", 201, json={"name": "戊楼宇", "street": "1", "kind": "building"})
    await call(client, "POST", "/api/v1/admin/sites", 409, json={"name": "戊楼宇", "street": "1"})
    await call(client, "POST", "/api/v1/admin/sites", 422, json={"name": "己", "street": "1", "kind": "castle"})
    sites = (await call(client, "GET", "/api/v1/admin/sites"))["sites"]
    assert [s["name"] for s in sites] == ["甲居委", "乙居委", "丙公园", "戊楼宇"]

    # Export in the import layout (CSV and XLSX), and the export imports cleanly.
    csv_response = await client.get("/api/v1/admin/sites?format=csv")
    exported = (await csv_response.read()).decode("utf-8-sig")
    assert exported.splitlines()[0] == "name,street,kind,address"
    roundtrip = await call(client, "POST", "/api/v1/admin/sites/import", data=upload(exported))
    assert roundtrip["unchanged"] == 4 and not roundtrip["errors"]
    xlsx = await (await client.get("/api/v1/admin/sites?format=xlsx")).read()
    assert openpyxl.load_workbook(io.BytesIO(xlsx)).active.max_row == 5  # type: ignore[union-attr]
    xlsx_preview = await call(client, "POST", "/api/v1/admin/sites/import", data=upload(xlsx, "sites.xlsx"))
    assert xlsx_preview["unchanged"] == 4

    # A name or address a spreadsheet would run as a formula is exported as text, and imports back.
    await call(client, "POST", "/api/v1/admin/sites", 201,
               json={"name": '=HYPERLINK("http://e.vil/","x")', "street": "1", "address": "-5号"})
    await call(client, "POST", "/api/v1/admin/sites", 201, json={"name": "'=7+8", "street": "1"})  # ' is its own
    csv_text = (await (await client.get("/api/v1/admin/sites?format=csv")).read()).decode("utf-8-sig")
    assert '"\'=HYPERLINK(""http://e.vil/"",""x"")"' in csv_text and ",'-5号" in csv_text
    xlsx = await (await client.get("/api/v1/admin/sites?format=xlsx")).read()
    cells = [c for row in openpyxl.load_workbook(io.BytesIO(xlsx)).active.iter_rows() for c in row]  # type: ignore[union-attr]
    formula_like = [c for c in cells if str(c.value).startswith(("=", "-"))]
    assert len(formula_like) == 2 and all(c.data_type == "s" for c in formula_like)
    for body in (upload(csv_text), upload(xlsx, "sites.xlsx")):
        again = await call(client, "POST", "/api/v1/admin/sites/import", data=body)
        assert again["unchanged"] == 6 and not again["errors"] and not again["changed"] and not again["added"], again


async def test_bad_uploads_write_nothing(client: TestClient) -> None:
    await login(client)
    await build_structure(client)
    await call(client, "POST", "/api/v1/admin/sites/import", 400, data=upload(b"\x89PNG\x00\x00", "photo.png"))
    await call(client, "POST", "/api/v1/admin/sites/import", 400, data=upload(b"PK\x03\x04broken", "sites.xlsx"))
    # An image renamed .csv: control bytes no text has (the PNG signature's \x1a) mark it binary.
    renamed = upload(b"\x89PNG\r\n\x1a\n1234", "s.csv")
    refused = await call(client, "POST", "/api/v1/admin/sites/import", 400, data=renamed)
    assert refused["error"]["code"] == "not_a_spreadsheet"
    big = b"a,b\n" * (20 * 1024 * 1024 // 4)
    response = await client.post("/api/v1/admin/sites/import?dry_run=false", data=upload(big))
    assert response.status == 413
    await call(client, "POST", "/api/v1/admin/sites/import", 415, json={"file": "x"})
    # A small workbook of many short rows: refused at the first row past the limit, not read whole.
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    for index in range(20_002):
        sheet.append([f"s{index}"])
    rows = io.BytesIO()
    book.save(rows)
    refused = await call(client, "POST", "/api/v1/admin/sites/import", 413, data=upload(rows.getvalue(), "s.xlsx"))
    assert "20000 行" in refused["error"]["message"]
    # Thousands of parts before the file: refused after the eighth.
    many = b"".join(b"--abc\r\nContent-Disposition: form-data; name=x\r\n\r\na\r\n" for _ in range(5000))
    response = await client.post("/api/v1/admin/sites/import", data=many + b"--abc--\r\n",
                                 headers={"Content-Type": "multipart/form-data; boundary=abc"})
    assert (response.status, (await response.json())["error"]["code"]) == (400, "bad_multipart")
    assert (await call(client, "GET", "/api/v1/admin/sites"))["sites"] == []
    await call(client, "POST", "/api/v1/admin/sites/import?dry_run=maybe", 400, data=upload(SHEET))


async def test_kiosks_enrol_rotate_disable(client: TestClient) -> None:
    await login(client)
    await build_structure(client)
    await call(client, "POST", "/api/v1/admin/sites/import?dry_run=false", data=upload(SHEET))
    created = await call(client, "POST", "/api/v1/admin/kiosks", 201, json={"site": "甲居委"})
    token = created["token"]
    assert created["url"].endswith(f"/kiosk?token={token}") and created["qr_svg"].startswith("<svg")
    await call(client, "POST", "/api/v1/admin/kiosks", 404, json={"site": "nowhere"})
    listed = (await call(client, "GET", "/api/v1/admin/kiosks"))["kiosks"]
    assert listed[0]["site"] == "甲居委" and listed[0]["online"] is False and "token" not in listed[0]
    kiosk_id = created["kiosk"]["id"]
    sites = (await call(client, "GET", "/api/v1/admin/sites"))["sites"]
    by_number = await call(client, "POST", "/api/v1/admin/kiosks", 201, json={"site": sites[0]["id"]})
    assert by_number["kiosk"]["site"] == sites[0]["name"]

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as kiosk:
        url = str(client.make_url("/api/v1/kiosk/session"))
        assert (await kiosk.post(url, json={"token": token})).status == 200
        me = str(client.make_url("/api/v1/auth/me"))
        assert (await kiosk.get(me)).status == 200
        rotated = await call(client, "POST", f"/api/v1/admin/kiosks/{kiosk_id}/rotate-token")
        assert rotated["token"] != token
        # The old token and the session made from it stop at once.
        assert (await kiosk.get(me)).status == 401
        assert (await kiosk.post(url, json={"token": token})).status == 401
        assert (await kiosk.post(url, json={"token": rotated["token"]})).status == 200
        disabled = await call(client, "POST", f"/api/v1/admin/kiosks/{kiosk_id}/disable")
        assert disabled["enabled"] is False
        assert (await kiosk.get(me)).status == 401
        assert (await kiosk.post(url, json={"token": rotated["token"]})).status == 401
        await call(client, "POST", f"/api/v1/admin/kiosks/{kiosk_id}/enable")
        assert (await kiosk.post(url, json={"token": rotated["token"]})).status == 200
    await call(client, "POST", "/api/v1/admin/kiosks/999/disable", 404)
    await call(client, "POST", "/api/v1/admin/kiosks/abc/rotate-token", 404)


async def test_staff_accounts(client: TestClient) -> None:
    await login(client)
    await build_structure(client)
    made = await call(client, "POST", "/api/v1/admin/users", 201, json={
        "username": "cw1", "role": "caseworker", "centre": "江宁路中心", "skills": ["police-household"]})
    one_time = made["password"]
    assert made["user"]["must_change_password"] and made["user"]["skills"] == ["police-household"]
    for body, status in (
        ({"username": "cw1", "role": "caseworker", "centre": "江宁路中心"}, 409),
        ({"username": "CW1", "role": "caseworker", "centre": "江宁路中心"}, 409),  # usernames ignore case
        ({"username": "cw2", "role": "caseworker"}, 422),
        ({"username": "cw2", "role": "caseworker", "centre": "nowhere"}, 404),
        ({"username": "cw2", "role": "caseworker", "centre": "1", "skills": ["flying"]}, 422),
        ({"username": "bad name!", "role": "caseworker", "centre": "1"}, 422),
        ({"username": "..", "role": "supervisor"}, 422),
        ({"username": ".", "role": "supervisor"}, 422),
        ({"username": "cw2", "role": "caseworker", "centre": "1", "password": "short"}, 422),
    ):
        await call(client, "POST", "/api/v1/admin/users", status, json=body)
    # The centre by id as a JSON number, as the digits above.
    await call(client, "POST", "/api/v1/admin/users", 201, json={"username": "boss", "role": "supervisor",
                                                                "centre": 1, "password": "supervisor-pass"})
    patched = await call(client, "PATCH", "/api/v1/admin/users/cw1", json={"skills": ["archives", "police-household"]})
    assert patched["skills"] == ["archives", "police-household"]
    await call(client, "PATCH", "/api/v1/admin/users/cw1", 422, json={"centre": None})
    await call(client, "PATCH", "/api/v1/admin/users/nobody", 404, json={"skills": []})
    # A typo or a yes/no given as text changes nothing and says so (docs/security.md: wrong fields 422).
    for body in ({"disable": True}, {"disabled": "yes"}, {"disabled": 0}, {"skills": [], "bogus": 1}):
        refused = await call(client, "PATCH", "/api/v1/admin/users/cw1", 422, json=body)
        assert refused["error"]["code"] == "invalid", body
    assert (await call(client, "GET", "/api/v1/admin/users?q=cw1"))["users"][0]["enabled"] is True
    users = (await call(client, "GET", "/api/v1/admin/users?role=caseworker"))["users"]
    assert [u["username"] for u in users] == ["cw1"]
    assert len((await call(client, "GET", "/api/v1/admin/users?q=bos"))["users"]) == 1
    for query, code in (("enabled=maybe", "bad_enabled"), ("centre_id=abc", "bad_centre_id")):
        assert (await call(client, "GET", f"/api/v1/admin/users?{query}", 400))["error"]["code"] == code

    # The one-time password only opens the change form; then the new password signs in.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as person:
        login_url = str(client.make_url("/api/v1/auth/login"))
        refused = await person.post(login_url, json={"username": "cw1", "password": one_time})
        assert refused.status == 403 and (await refused.json())["error"]["code"] == "password_change_required"
        change = str(client.make_url("/api/v1/auth/password"))
        assert (await person.post(change, json={"username": "cw1", "password": one_time,
                                                "new_password": "my-own-password"})).status == 200
        assert (await person.post(login_url, json={"username": "cw1", "password": "my-own-password"})).status == 200
        # Reset: the live session ends, the new one-time password must be changed again.
        reset = await call(client, "POST", "/api/v1/admin/users/cw1/reset-password")
        assert (await person.get(str(client.make_url("/api/v1/auth/me")))).status == 401
        assert (await person.post(login_url, json={"username": "cw1", "password": reset["password"]})).status == 403
        # Disable ends sessions; enable lets the person back in.
        await person.post(change, json={"username": "cw1", "password": reset["password"],
                                        "new_password": "another-password"})
        assert (await person.post(login_url, json={"username": "cw1", "password": "another-password"})).status == 200
        # Signed in to the queue and available: disabling takes them out of it at once (the board
        # must not show them 空闲 for the departure grace).
        users = (await call(client, "GET", "/api/v1/admin/users?q=cw1"))["users"]
        cw1 = next(u for u in users if u["username"] == "cw1")
        queue = client.app[QUEUE].queue
        await queue.caseworker_login(str(cw1["id"]), "1", ["police-household"])
        assert (await queue.caseworker(str(cw1["id"]))).state == "available"  # type: ignore[union-attr]
        assert not (await call(client, "PATCH", "/api/v1/admin/users/cw1", json={"disabled": True}))["enabled"]
        assert (await person.get(str(client.make_url("/api/v1/auth/me")))).status == 401
        assert (await queue.caseworker(str(cw1["id"]))).state == "offline"  # type: ignore[union-attr]
        await call(client, "PATCH", "/api/v1/admin/users/cw1", json={"disabled": False})
        assert (await person.post(login_url, json={"username": "cw1", "password": "another-password"})).status == 200
    # The last enabled admin cannot be disabled.
    assert (await call(client, "PATCH", "/api/v1/admin/users/root", 409, json={"disabled": True}))["error"]
    await call(client, "POST", "/api/v1/admin/users/nobody/reset-password", 404)


async def test_catalog_edit_import_restore(client: TestClient) -> None:
    await login(client)
    matter = await call(client, "GET", "/api/v1/admin/matters/gaj-jlks-01")
    assert "[" in matter["materials_text"]
    bad = await call(client, "PUT", "/api/v1/admin/matters/gaj-jlks-01", 422,
                     json={"typical_minutes": 0, "skill": "flying", "materials": "身份证[nonsense_type]"})
    assert len(bad["error"]["details"]) >= 2 and all("gaj-jlks-01" in d for d in bad["error"]["details"])
    # A lone surrogate (valid JSON escape, no Unicode text) is refused cleanly, not a 500.
    for field in ("guide", "name", "skill", "materials"):
        raw = '{"' + field + '": "g\\ud800"}'
        await call(client, "PUT", "/api/v1/admin/matters/gaj-jlks-01", 422, data=raw,
                   headers={"Content-Type": "application/json"})
    for body in ({"typical_minutes": True}, {"typical_minutes": "12"}, {"on_the_spot": "1"}):  # no lax reading
        await call(client, "PUT", "/api/v1/admin/matters/gaj-jlks-01", 422, json=body)
    edited = await call(client, "PUT", "/api/v1/admin/matters/gaj-jlks-01",
                        json={"name": "敬老卡申领（新）", "typical_minutes": 12,
                              "materials": "身份证原件[capture:id_card]; 申请表[form]"})
    assert edited["changed"] == ["gaj-jlks-01"]
    public = await call(client, "GET", "/api/v1/matters/gaj-jlks-01")
    assert public["name"] == "敬老卡申领（新）" and len(public["materials"]) == 2
    assert "form" not in public  # the form level is the console's business, shown to admins only
    kept = (await call(client, "GET", "/api/v1/admin/matters/gaj-jlks-01"))["matter"]["form"]
    assert [f["key"] for f in kept["fields"]] == ["card_delivery"]  # an edit keeps the matter's form level
    # Saving again with nothing changed (or an empty edit) publishes no new version.
    before = (await call(client, "GET", "/api/v1/admin/catalog/versions"))["versions"]
    for same in ({"name": "敬老卡申领（新）", "typical_minutes": 12}, {}):
        unchanged = await call(client, "PUT", "/api/v1/admin/matters/gaj-jlks-01", json=same)
        assert not unchanged["applied"] and not unchanged["changed"] and not unchanged["errors"]
        assert unchanged["version"] == edited["version"] == unchanged["old_version"]
    assert (await call(client, "GET", "/api/v1/admin/catalog/versions"))["versions"] == before
    await call(client, "PUT", "/api/v1/admin/matters/no-such-matter", 404, json={"name": "x"})
    versions = (await call(client, "GET", "/api/v1/admin/catalog/versions"))["versions"]
    assert len(versions) == 2 and versions[0]["current"]
    restored = await call(client, "POST", f"/api/v1/admin/catalog/restore/{versions[1]['version']}")
    assert restored["changed"] == ["gaj-jlks-01"]
    assert (await call(client, "GET", "/api/v1/matters/gaj-jlks-01"))["name"] != "敬老卡申领（新）"
    await call(client, "POST", "/api/v1/admin/catalog/restore/nope", 404)
    # A spreadsheet import: preview diff, then publish; a broken sheet lists its errors.
    export = await (await client.get("/api/v1/admin/sites?format=csv")).read()
    assert export  # the header alone
    rows = await catalog_rows(client)
    sheet = "\n".join(rows[:3]) + "\n"
    preview = await call(client, "POST", "/api/v1/admin/catalog/import?dry_run=true", data=upload(sheet, "c.csv"))
    assert preview["dry_run"] and len(preview["retired"]) > 100 and not preview["errors"]
    broken = await call(client, "POST", "/api/v1/admin/catalog/import?dry_run=true",
                        data=upload(sheet.replace(",handle,", ",sometimes,", 1), "c.csv"))
    assert broken["errors"] and "第 2 行" in broken["errors"][0]
    await call(client, "POST", "/api/v1/admin/catalog/import?dry_run=false", 422,
               data=upload(sheet.replace(",handle,", ",sometimes,", 1), "c.csv"))
    # A name with a character no reader sees (here a bidi override) is an error of its row too.
    name = rows[1].split(",")[1]
    hidden = await call(client, "POST", "/api/v1/admin/catalog/import?dry_run=true",
                        data=upload(sheet.replace(name, name[:2] + "\u202e" + name[2:], 1), "c.csv"))
    assert any("第 2 行" in e and "看不见的字符" in e for e in hidden["errors"]), hidden["errors"]
    published = await call(client, "POST", "/api/v1/admin/catalog/import?dry_run=false", data=upload(sheet, "c.csv"))
    assert published["applied"]
    assert (await call(client, "GET", "/api/v1/matters"))["total"] == 2
    # The same sheet again changes nothing and publishes nothing.
    kept_versions = (await call(client, "GET", "/api/v1/admin/catalog/versions"))["versions"]
    again = await call(client, "POST", "/api/v1/admin/catalog/import?dry_run=false", data=upload(sheet, "c.csv"))
    assert not again["applied"] and again["version"] == published["version"] and not again["errors"]
    assert (await call(client, "GET", "/api/v1/admin/catalog/versions"))["versions"] == kept_versions

    # Two tabs: the second saves a copy read before the first saved, and is refused (409), not
    # allowed to undo the first; an edit of another matter in between does not count.
    one, two = [m["id"] for m in (await call(client, "GET", "/api/v1/matters"))["matters"][:2]]
    read = await call(client, "GET", f"/api/v1/admin/matters/{one}")
    other = await call(client, "GET", f"/api/v1/admin/matters/{two}")
    first_tab = await call(client, "PUT", f"/api/v1/admin/matters/{two}",
                           json={"typical_minutes": other["matter"]["typical_minutes"] % 200 + 1,
                                 "base_version": other["version"]})
    assert first_tab["applied"]
    await call(client, "PUT", f"/api/v1/admin/matters/{one}",
               json={"guide": read["matter"]["guide"] + "（一）", "base_version": read["version"]})
    stale = await call(client, "PUT", f"/api/v1/admin/matters/{one}", 409,
                       json={"guide": read["matter"]["guide"] + "（二）", "base_version": read["version"]})
    assert "已被修改" in stale["error"]["message"]
    await call(client, "PUT", f"/api/v1/admin/matters/{one}", json={"guide": read["matter"]["guide"]})

async def catalog_rows(client: TestClient) -> list[str]:
    """The shipped catalog as CSV lines (header first), via the catalog exporter."""
    from matters_catalog.loader import load_catalog
    from matters_catalog.spreadsheet import write_csv

    out = io.StringIO()
    write_csv(load_catalog().matters, out)
    return out.getvalue().splitlines()


async def test_audit_log_records_every_action(client: TestClient) -> None:
    await login(client)
    await build_structure(client)
    await call(client, "POST", "/api/v1/admin/users", 201, json={"username": "cw9", "role": "admin"})
    entries = (await call(client, "GET", "/api/v1/admin/audit"))["entries"]
    actions = [e["action"] for e in entries]
    assert actions[:5] == ["user_added", "centre_added", "street_added", "street_added", "login"]
    assert all(e["actor"].startswith("admin:") for e in entries[:4])
    only = (await call(client, "GET", "/api/v1/admin/audit?action=street_added"))["entries"]
    assert len(only) == 2
    await call(client, "GET", "/api/v1/admin/audit?from=yesterday", 400)
    for query in ("to=9999-12-31", "from=0001-01-01", "from=0001-01-01T00:00:00", "to=9999-12-31&format=csv"):
        await call(client, "GET", f"/api/v1/admin/audit?{query}", 400)
    response = await client.get("/api/v1/admin/audit?format=csv")
    text = (await response.read()).decode("utf-8-sig")
    assert text.splitlines()[0] == "id,at,actor,action,object_type,object_id,data" and "street_added" in text
    assert (await call(client, "GET", "/api/v1/admin/audit?limit=1"))["entries"][0]["action"] == "audit_exported"
    for limit in ("abc", "-1", "0", "9999999999", "１"):
        refused = await call(client, "GET", f"/api/v1/admin/audit?limit={limit}", 400)
        assert refused["error"]["code"] == "bad_limit", limit


ADMIN_CALLS = [
    ("GET", "/api/v1/admin/streets"), ("POST", "/api/v1/admin/streets"), ("GET", "/api/v1/admin/centres"),
    ("POST", "/api/v1/admin/centres"), ("GET", "/api/v1/admin/sites"), ("POST", "/api/v1/admin/sites"),
    ("POST", "/api/v1/admin/sites/import"), ("GET", "/api/v1/admin/kiosks"), ("POST", "/api/v1/admin/kiosks"),
    ("POST", "/api/v1/admin/kiosks/1/rotate-token"), ("POST", "/api/v1/admin/kiosks/1/disable"),
    ("POST", "/api/v1/admin/kiosks/1/enable"), ("GET", "/api/v1/admin/users"), ("POST", "/api/v1/admin/users"),
    ("PATCH", "/api/v1/admin/users/root"), ("POST", "/api/v1/admin/users/root/reset-password"),
    ("GET", "/api/v1/admin/matters/gaj-jlks-01"), ("PUT", "/api/v1/admin/matters/gaj-jlks-01"),
    ("POST", "/api/v1/admin/catalog/import"), ("GET", "/api/v1/admin/catalog/versions"),
    ("POST", "/api/v1/admin/catalog/restore/x"), ("GET", "/api/v1/admin/audit"),
    ("GET", "/api/v1/admin/centres/1/hours"), ("PUT", "/api/v1/admin/centres/1/hours"),
    ("PUT", "/api/v1/admin/centres/1/overrides/2030-01-02"), ("DELETE", "/api/v1/admin/centres/1/overrides/2030-01-02"),
]


async def test_only_admins_and_same_origin(client: TestClient) -> None:
    async with client.app[app_keys.DB_SESSIONS]() as session, session.begin():
        await upsert_user(session, username="boss", password=PASSWORD, role="supervisor")
    for method, path in ADMIN_CALLS:
        assert (await client.request(method, path, json={})).status == 401, path
    await login(client, "boss")
    for method, path in ADMIN_CALLS:
        assert (await client.request(method, path, json={})).status == 403, path
    await client.post("/api/v1/auth/logout")
    await login(client)
    response = await client.post("/api/v1/admin/streets", json={"name": "北站街道"},
                                 headers={"Origin": "http://evil.example"})
    assert response.status == 403 and (await response.json())["error"]["code"] == "bad_origin"
    assert (await call(client, "GET", "/api/v1/admin/streets"))["streets"] == []
    page = await client.get("/admin")
    assert page.status == 200 and 'data-testid="admin-nav"' in await page.text()
    # Every page links only its own assets: nothing of the server's objects reaches the HTML.
    for path in ("/", "/admin", "/password", "/kiosk", "/agent", "/supervisor"):
        html = await (await client.get(path)).text()
        assert "Application" not in html and "/static/<" not in html, (path, html[:600])


async def test_centre_supervisor_sees_only_their_centre(client: TestClient) -> None:
    await login(client)
    await build_structure(client)
    other = await call(client, "POST", "/api/v1/admin/centres", 201, json={"name": "静安寺中心", "street": "jingansi"})
    await call(client, "POST", "/api/v1/admin/users", 201, json={
        "username": "lead", "role": "supervisor", "centre": "江宁路中心", "password": "centre-lead-pass"})
    await call(client, "POST", "/api/v1/admin/users", 201, json={
        "username": "chief", "role": "supervisor", "password": "district-chief-pass"})
    await client.post("/api/v1/auth/logout")
    await login(client, "lead", "centre-lead-pass")
    await call(client, "GET", "/api/v1/followups")
    await call(client, "GET", f"/api/v1/followups?centre={other['id']}", 403)
    await call(client, "GET", f"/api/v1/sessions?centre={other['id']}", 403)
    assert (await call(client, "GET", "/api/v1/sessions"))["total"] == 0
    await client.post("/api/v1/auth/logout")
    await login(client, "chief", "district-chief-pass")
    await call(client, "GET", f"/api/v1/sessions?centre={other['id']}")
    # Report exports are audited too.
    assert (await client.get("/api/v1/reports/sessions.csv")).status == 200
    await client.post("/api/v1/auth/logout")
    await login(client)
    exported = (await call(client, "GET", "/api/v1/admin/audit?action=sessions_exported"))["entries"]
    assert len(exported) == 1 and exported[0]["actor"].startswith("supervisor:")


async def test_centre_hours_form(client: TestClient) -> None:
    await login(client)
    await build_structure(client)
    centre = (await call(client, "GET", "/api/v1/admin/centres"))["centres"][0]["id"]
    path = f"/api/v1/admin/centres/{centre}"
    shown = await call(client, "GET", f"{path}/hours")
    assert (shown["week"], shown["overrides"], shown["calendar"]["always_open"]) == ([], [], True)
    week = [{"weekday": d, "opens": "09:00", "closes": "17:00", "lunch_start": "12:00", "lunch_end": "13:00"}
            for d in range(5)]

    # Every problem is named in Chinese, and nothing of the week is written.
    bad = [{**week[0], "closes": "08:00"}, {**week[1], "opens": "9点"}, {**week[2], "lunch_end": ""},
           {**week[3], "lunch_start": "11:00", "lunch_end": "18:00"}, week[4], {**week[4]}]
    refused = (await call(client, "PUT", f"{path}/hours", 422, json={"days": bad}))["error"]
    assert refused["message"].startswith("有 5 处需要修改")
    assert refused["details"] == ["周一的关门时间必须晚于开门时间", "周二的开门时间“9点”不是 时:分 格式（如 09:00）",
                                  "周三的午休需要同时填写开始和结束时间（不休息就都不填）",
                                  "周四的午休必须在开放时间之内，且结束晚于开始", "周五填写了两次"]
    for weekday in (7, True, "4", 4.0):  # JSON true or a string is no weekday
        await call(client, "PUT", f"{path}/hours", 422,
                   json={"days": [{"weekday": weekday, "opens": "09:00", "closes": "17:00"}]})
    assert (await call(client, "GET", f"{path}/hours"))["week"] == []

    saved = await call(client, "PUT", f"{path}/hours", json={"days": [*week[:4], {**week[4], "lunch_start": "",
                                                                                        "lunch_end": ""}]})
    assert [d["weekday"] for d in saved["week"]] == [0, 1, 2, 3, 4]
    assert saved["week"][4]["lunch_start"] == "" and not saved["calendar"]["always_open"]
    # Two tabs: a save based on the week as it was before another save is refused, not applied.
    read = saved["week_version"]
    again = await call(client, "PUT", f"{path}/hours", json={"days": week[:3], "base_week": read})
    assert again["week_version"] != read
    stale = await call(client, "PUT", f"{path}/hours", 409, json={"days": week, "base_week": read})
    assert "已被修改" in stale["error"]["message"]
    saved = await call(client, "PUT", f"{path}/hours", json={
        "days": [*week[:4], {**week[4], "lunch_start": "", "lunch_end": ""}], "base_week": again["week_version"]})

    # Dates: closed, or their own hours; not in the past; a bad date or hours refused; removal.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    first, second = (today + timedelta(days=2)).isoformat(), (today + timedelta(days=4)).isoformat()
    set_first = await call(client, "PUT", f"{path}/overrides/{first}", json={"closed": True, "note": "盘\u202e点"})
    assert set_first["overrides"][0]["note"] == "盘点"  # invisible characters dropped
    shown = await call(client, "PUT", f"{path}/overrides/{second}", json={"closed": False, "opens": "09:00",
                                                                          "closes": "11:00", "note": "值班"})
    assert [(o["date"], o["closed"], o["opens"], o["closes"], o["note"]) for o in shown["overrides"]] == [
        (first, True, "", "", "盘点"), (second, False, "09:00", "11:00", "值班")]
    day = {d["date"]: d for d in shown["calendar"]["days"]}
    assert (day[first]["open"], day[second]["periods"]) == (False, ["09:00-11:00"])
    yesterday = (today - timedelta(days=1)).isoformat()
    for date_text, body, message in (
            (yesterday, {"closed": True}, "不能修改已经过去的日期"),
            ("2026-13-01", {"closed": True}, "日期“2026-13-01”无效"),
            ("9999-12-31", {"closed": True}, "日期不能晚于 2099-12-31"),
            ("２０３０-01-02", {"closed": True}, "无效"),
            (first, {"closed": False, "opens": "10:00"}, "请填写"),
            (first, {"closed": True, "opens": "09:00", "closes": "17:00"}, "不要再填写开放时间"),
    ):
        refused = (await call(client, "PUT", f"{path}/overrides/{date_text}", 422, json=body))["error"]
        assert message in refused["message"], refused
    assert len((await call(client, "GET", f"{path}/hours"))["overrides"]) == 2  # the refused ones changed nothing
    shown = await call(client, "DELETE", f"{path}/overrides/{first}")
    assert [o["date"] for o in shown["overrides"]] == [second]
    assert "没有单独设置" in (await call(client, "DELETE", f"{path}/overrides/{first}", 404))["error"]["message"]
    await call(client, "GET", "/api/v1/admin/centres/999/hours", 404)

    # Audited like the other admin edits (ids, dates and hours; never the note).
    entries = (await call(client, "GET", "/api/v1/admin/audit?object_type=centre"))["entries"]
    actions = [(e["action"], e["object_id"]) for e in entries]
    assert actions[:4] == [("override_removed", str(centre)), ("override_set", str(centre)),
                           ("override_set", str(centre)), ("hours_set", str(centre))]
    assert entries[3]["data"]["week"]["mon"] == "09:00-17:00 lunch 12:00-13:00"
    assert entries[3]["data"]["week"]["sat"] == "closed" and "note" not in entries[1]["data"]


async def test_concurrent_writes_keep_the_rules(client: TestClient) -> None:
    """Administration writes that arrive together are checked one after the other: two admins
    disabling each other leave one enabled, case variants of one username make one account,
    duplicate sites one site, and one override is removed once."""
    await login(client)
    await build_structure(client)
    await call(client, "POST", "/api/v1/admin/users", 201,
               json={"username": "admin2", "role": "admin", "password": "another-password-2"})

    async def statuses(requests: list[tuple[str, str, dict[str, Any] | None]]) -> list[int]:
        async def one(method: str, path: str, body: dict[str, Any] | None) -> int:
            async with client.request(method, path, json=body) as response:
                await response.read()
                return response.status
        return sorted(await asyncio.gather(*(one(*r) for r in requests)))

    disable = {"disabled": True}
    assert await statuses([("PATCH", "/api/v1/admin/users/root", disable),
                           ("PATCH", "/api/v1/admin/users/admin2", disable)]) == [200, 409]
    async with client.get("/api/v1/admin/users?role=admin") as response:
        if response.status == 401:  # root was the one disabled, its sign-in with it
            await login(client, "admin2", "another-password-2")
    enabled = [u for u in (await call(client, "GET", "/api/v1/admin/users?role=admin"))["users"] if u["enabled"]]
    assert len(enabled) == 1

    names = ["Zhang", "zhang", "ZHANG", "zHang", "zhAng", "zhaNg"]
    made = await statuses([("POST", "/api/v1/admin/users", {"username": n, "role": "supervisor"}) for n in names])
    assert made == [201] + [409] * 5, made
    site = {"name": "并发居委", "street": "江宁路街道", "kind": "committee"}
    assert await statuses([("POST", "/api/v1/admin/sites", site)] * 6) == [201] + [409] * 5

    centre = (await call(client, "GET", "/api/v1/admin/centres"))["centres"][0]["id"]
    day = (datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=3)).isoformat()
    path = f"/api/v1/admin/centres/{centre}/overrides/{day}"
    await call(client, "PUT", path, json={"closed": True, "note": "盘点"})
    assert await statuses([("DELETE", path, None)] * 5) == [200] + [404] * 4
    removed = [e for e in (await call(client, "GET", "/api/v1/admin/audit?action=override_removed"))["entries"]]
    assert len(removed) == 1

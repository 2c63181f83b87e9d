"""Open311 GeoReport v2 conformance, checked with an independent client.

Usage: client_test.py ROOT JURISDICTION API_KEY ADDRESS_ID
ROOT is e.g. http://127.0.0.1:8080/open311/v2. Reads go through the
`georeport` package (PyPI); it cannot create requests, so POST is sent as the
specification describes (form-encoded) with `requests`, its own dependency.
"""
import datetime
import sys

import requests
from georeport import GeoReport

root, jurisdiction, api_key, address_id = sys.argv[1:5]
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {detail}", file=sys.stderr)


def iso(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


js = GeoReport(root, jurisdiction=jurisdiction, api_key=api_key)
xml = GeoReport(root, jurisdiction=jurisdiction, api_key=api_key, output_format="xml")

services = js.get_service_list()
codes = [s["service_code"] for s in services]
check("services.json lists repair", "repair" in codes, codes)
check("services have the spec's fields", all({"service_code", "service_name", "description", "metadata", "type", "keywords", "group"} <= set(s) for s in services), services[0])
check("metadata is boolean", all(isinstance(s["metadata"], bool) for s in services))
check("type is realtime/batch/blackbox", all(s["type"] in ("realtime", "batch", "blackbox") for s in services))
xservices = xml.get_service_list()
check("services.xml parses to the same codes", [s["service_code"] for s in xservices] == codes, xservices[:1])
definition = js.get_service_definition("noise")
check("service definition", definition.get("service_code") == "noise" and isinstance(definition.get("attributes"), list), definition)

# Create (POST requests.json, form-encoded, api_key required).
r = requests.post(f"{root}/requests.json", data={"jurisdiction_id": jurisdiction, "service_code": "repair", "address_id": address_id, "description": "Open311: the lift in building 1 is stuck", "first_name": "Li", "api_key": api_key, "lat": "30.6586", "long": "104.0647"})
check("POST requests.json is 200", r.status_code == 200, (r.status_code, r.text))
created = r.json()
check("POST answers a list with service_request_id", isinstance(created, list) and created and "service_request_id" in created[0], created)
rid = created[0]["service_request_id"]

one = js.get_service_request(rid)
check("requests/{id}.json", one["service_request_id"] == rid, one)
check("status is open", one["status"] == "open", one["status"])
check("service_code kept", one["service_code"] == "repair")
for f in ("requested_datetime", "updated_datetime", "expected_datetime"):
    try:
        iso(one[f])
        check(f"{f} is ISO 8601", True)
    except Exception as e:  # noqa: BLE001
        check(f"{f} is ISO 8601", False, (one.get(f), e))
check("expected after requested", iso(one["expected_datetime"]) > iso(one["requested_datetime"]))
check("lat/long as numbers", one["lat"] == 30.6586 and one["long"] == 104.0647, (one["lat"], one["long"]))
check("all spec fields present", {"service_request_id", "status", "status_notes", "service_name", "service_code", "description", "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"} <= set(one), sorted(one))

listed = js.get_service_requests(status="open", service_code="repair")
check("requests.json filters status+service_code", any(x["service_request_id"] == rid for x in listed), listed)
closed = js.get_service_requests(status="closed")
check("status=closed excludes it", all(x["service_request_id"] != rid for x in closed))
by_id = js.get_service_requests(service_request_id=rid)
check("service_request_id filter", [x["service_request_id"] for x in by_id] == [rid], by_id)
now = datetime.datetime.now(datetime.timezone.utc)
ranged = js.get_service_requests(start_date=(now - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), end_date=(now + datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"))
check("start_date/end_date", any(x["service_request_id"] == rid for x in ranged), ranged)
old = js.get_service_requests(start_date="2020-01-01T00:00:00Z", end_date="2020-02-01T00:00:00Z")
check("an old range is empty", old == [], old)

xone = xml.get_service_request(rid)
check("requests/{id}.xml", xone["service_request_id"] == rid and xone["status"] == "open", xone)
xlist = xml.get_service_requests(service_request_id=rid)
xlist = xlist if isinstance(xlist, list) else [xlist]
check("requests.xml", xlist[0]["service_request_id"] == rid, xlist)

# Errors: a list of {code, description}, in JSON and XML.
r = requests.get(f"{root}/requests/no-such-id.json")
check("unknown id is 404", r.status_code == 404, r.status_code)
body = r.json()
check("error format", isinstance(body, list) and body[0]["code"] == 404 and isinstance(body[0]["description"], str), body)
r = requests.post(f"{root}/requests.json", data={"jurisdiction_id": jurisdiction, "service_code": "repair", "address_string": "x", "description": "x", "api_key": "wrong"})
check("bad api_key is 403", r.status_code == 403 and r.json()[0]["code"] == 403, (r.status_code, r.text))
r = requests.post(f"{root}/requests.json", data={"jurisdiction_id": jurisdiction, "service_code": "ufo", "address_string": "x", "description": "x", "api_key": api_key})
check("unknown service_code is 400", r.status_code == 400 and "service_code" in r.json()[0]["description"], (r.status_code, r.text))
r = requests.post(f"{root}/requests.xml", data={"jurisdiction_id": jurisdiction, "service_code": "repair", "description": "x", "api_key": api_key})
check("no location is 400 in XML", r.status_code == 400 and r.text.count("<error>") == 1 and "<code>400</code>" in r.text, r.text)
r = requests.get(f"{root}/requests.json", params={"jurisdiction_id": jurisdiction, "start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"})
check("more than 90 days is 400", r.status_code == 400, r.status_code)

disc = requests.get(f"{root}/discovery.json").json()
check("discovery endpoints", disc["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2" and "text/xml" in disc["endpoints"][0]["formats"], disc)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
